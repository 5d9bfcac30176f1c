import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { LockedJsonFile } from '../store/lockedJsonFile.js';
import {
  DEFAULT_SETTINGS,
  settingsFileSchema,
  type RuntimeSettings,
  type SettingsFile,
  type SettingsPatch,
} from './settingsSchema.js';

export const SETTINGS_FILE = 'settings.json';

export interface SettingsStoreEvents {
  change: [settings: RuntimeSettings, previous: RuntimeSettings];
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
  }

  static async open(dataDir: string): Promise<SettingsStore> {
    const file = await LockedJsonFile.open<SettingsFile>({
      file: join(dataDir, SETTINGS_FILE),
      schema: settingsFileSchema,
      defaults: () => ({}),
    });
    return new SettingsStore(file);
  }

  get current(): RuntimeSettings {
    return this.#current;
  }

  /** Written to disk before it resolves; the returned settings are the ones now in force. */
  async update(patch: SettingsPatch): Promise<RuntimeSettings> {
    await this.file.update((draft) => {
      Object.assign(draft, patch);
    });
    return this.#current;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

function effective(file: SettingsFile): RuntimeSettings {
  return { mode: file.mode ?? DEFAULT_SETTINGS.mode, publicPaths: file.publicPaths ?? DEFAULT_SETTINGS.publicPaths };
}
