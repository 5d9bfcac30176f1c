import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { LockedJsonFile } from '../store/lockedJsonFile.js';
import { roleSchema } from '../keys/keySchema.js';
import {
  DEFAULT_SETTINGS,
  type RoleLimits,
  settingsFileSchema,
  type RuntimeSettings,
  type SettingsFile,
  type SettingsPatch,
  startupSettingsSchema,
  type StartupPatch,
  type StartupSettings,
} from './settingsSchema.js';

export const SETTINGS_FILE = 'settings.json';

export interface SettingsStoreEvents {
  change: [settings: RuntimeSettings, previous: RuntimeSettings];
  /** settings.json was changed by someone else into something unusable; the last good settings stay in force. */
  invalid: [Error];
}

/** The operator's runtime settings, shared with the CLI through settings.json. */
export class SettingsStore {
  readonly events = new EventEmitter<SettingsStoreEvents>();
  #current: RuntimeSettings;

  private constructor(private readonly file: LockedJsonFile<SettingsFile>) {
    this.#current = effective(file.data);
    file.events.on('change', (data) => {
      const previous = this.#current;
      this.#current = effective(data);
      if (JSON.stringify(previous) !== JSON.stringify(this.#current))
        this.events.emit('change', this.#current, previous);
    });
    file.events.on('invalid', (error) => this.events.emit('invalid', error));
  }

  static async open(dataDir: string): Promise<SettingsStore> {
    const file = await LockedJsonFile.open<SettingsFile>({
      file: join(dataDir, SETTINGS_FILE),
      schema: settingsFileSchema,
      defaults: () => ({}),
    });
    return new SettingsStore(file);
  }

  /** Adopts settings.json as it is on disk now (a CLI change), before resolving. */
  reload(): Promise<void> {
    return this.file.reload();
  }

  /** Frozen: a request reads one consistent snapshot. */
  get current(): RuntimeSettings {
    return this.#current;
  }

  /** Calls `apply` with the new value whenever one setting changes (from the dashboard, the CLI or the file). */
  follow<K extends keyof RuntimeSettings>(key: K, apply: (value: RuntimeSettings[K]) => void): void {
    this.events.on('change', (current, previous) => {
      if (JSON.stringify(current[key]) !== JSON.stringify(previous[key])) apply(current[key]);
    });
  }

  /** Written to disk before it resolves; nested objects merge field by field. */
  async update(patch: SettingsPatch): Promise<RuntimeSettings> {
    await this.file.update((draft) => {
      const now = effective(draft);
      if (patch.mode !== undefined) draft.mode = patch.mode;
      if (patch.publicPaths !== undefined) draft.publicPaths = patch.publicPaths;
      if (patch.routeOverrides !== undefined) draft.routeOverrides = patch.routeOverrides;
      if (patch.retentionDays !== undefined) draft.retentionDays = patch.retentionDays;
      if (patch.metricsToken !== undefined) draft.metricsToken = patch.metricsToken;
      if (patch.isolation !== undefined) draft.isolation = patch.isolation;
      if (patch.trustProxy !== undefined) draft.trustProxy = patch.trustProxy;
      if (patch.unownedFiles !== undefined) draft.unownedFiles = patch.unownedFiles;
      if (patch.maxWebSocketsPerKey !== undefined) draft.maxWebSocketsPerKey = patch.maxWebSocketsPerKey;
      if (patch.defaultLimits) draft.defaultLimits = { ...now.defaultLimits, ...patch.defaultLimits };
      if (patch.lockout) draft.lockout = { ...now.lockout, ...patch.lockout };
      if (patch.logRetention) draft.logRetention = { ...now.logRetention, ...patch.logRetention };
      if (patch.notifications) draft.notifications = { ...now.notifications, ...patch.notifications };
      if (patch.fairQueue) draft.fairQueue = { ...now.fairQueue, ...patch.fairQueue };
      if (patch.capInputs) draft.capInputs = { ...now.capInputs, ...patch.capInputs };
      if (patch.roleLimits) {
        const roles = { ...now.roleLimits };
        for (const role of roleSchema.options) {
          const given = patch.roleLimits[role];
          if (given) roles[role] = withoutNulls({ ...roles[role], ...given });
        }
        draft.roleLimits = roles;
      }
      if (patch.anonymous) {
        draft.anonymous = {
          role: patch.anonymous.role ?? now.anonymous.role,
          limits: { ...now.anonymous.limits, ...patch.anonymous.limits },
        };
      }
    });
    return this.#current;
  }

  /** Start-up settings as saved in settings.json (applied at the next start). */
  get startup(): StartupSettings {
    const data = this.file.data as Record<string, unknown>;
    const pick = (key: keyof StartupSettings) => (data[key] === undefined ? undefined : data[key]);
    return startupSettingsSchema
      .partial()
      .catch({})
      .parse({
        upstream: pick('upstream'),
        upstreams: pick('upstreams'),
        host: pick('host'),
        port: pick('port'),
        https: pick('https'),
      });
  }

  /** `upstream: null` goes back to discovering ComfyUI. */
  async updateStartup(patch: StartupPatch): Promise<StartupSettings> {
    await this.file.update((draft) => {
      const data = draft as Record<string, unknown>;
      for (const key of ['upstream', 'upstreams', 'host', 'port', 'https'] as const) {
        const value = patch[key];
        if (value === null) delete data[key];
        else if (value !== undefined) data[key] = value;
      }
      // One ComfyUI or several: the one just saved is what the next start uses.
      if (typeof patch.upstream === 'string') delete data['upstreams'];
      if (Array.isArray(patch.upstreams)) delete data['upstream'];
    });
    return this.startup;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

function effective(file: SettingsFile): RuntimeSettings {
  return Object.freeze({
    mode: file.mode ?? DEFAULT_SETTINGS.mode,
    publicPaths: file.publicPaths ?? DEFAULT_SETTINGS.publicPaths,
    defaultLimits: file.defaultLimits ?? DEFAULT_SETTINGS.defaultLimits,
    anonymous: file.anonymous ?? DEFAULT_SETTINGS.anonymous,
    roleLimits: { ...DEFAULT_SETTINGS.roleLimits, ...file.roleLimits },
    capInputs: file.capInputs ?? DEFAULT_SETTINGS.capInputs,
    lockout: file.lockout ?? DEFAULT_SETTINGS.lockout,
    routeOverrides: file.routeOverrides ?? DEFAULT_SETTINGS.routeOverrides,
    retentionDays: file.retentionDays ?? DEFAULT_SETTINGS.retentionDays,
    metricsToken: file.metricsToken ?? DEFAULT_SETTINGS.metricsToken,
    isolation: file.isolation ?? DEFAULT_SETTINGS.isolation,
    trustProxy: file.trustProxy ?? DEFAULT_SETTINGS.trustProxy,
    logRetention: file.logRetention ?? DEFAULT_SETTINGS.logRetention,
    unownedFiles: file.unownedFiles ?? DEFAULT_SETTINGS.unownedFiles,
    // null is a choice (no cap), not a missing value.
    maxWebSocketsPerKey:
      file.maxWebSocketsPerKey === undefined ? DEFAULT_SETTINGS.maxWebSocketsPerKey : file.maxWebSocketsPerKey,
    notifications: file.notifications ?? DEFAULT_SETTINGS.notifications,
    fairQueue: file.fairQueue ?? DEFAULT_SETTINGS.fairQueue,
  });
}

/** A role default set to null is taken away, so the key's own (or none) applies again. */
function withoutNulls(limits: RoleLimits[keyof RoleLimits]): RoleLimits[keyof RoleLimits] {
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== null));
}
