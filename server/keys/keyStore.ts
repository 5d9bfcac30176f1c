import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { z } from 'zod';
import { GateError } from '../errors.js';
import { LockedJsonFile } from '../store/lockedJsonFile.js';
import type { DocumentSharing, SharedDocument } from '../store/sharedDocument.js';
import { generateKey, hashKey, hasValidKeyFormat, keyHint, newKeyId } from './keyFormat.js';
import {
  createKeyInputSchema,
  keysFileSchema,
  publicKeyRecord,
  updateKeyInputSchema,
  type CreateKeyInput,
  type KeyRecord,
  type KeysFile,
  type PublicKeyRecord,
  type UpdateKeyInput,
} from './keySchema.js';

export const KEYS_FILE = 'keys.json';
/** The keys' name in a DocumentSharing (Redis). */
export const KEYS_DOCUMENT = 'keys';

export type VerifyResult =
  | { ok: true; record: KeyRecord }
  | { ok: false; reason: 'malformed' | 'unknown' }
  | { ok: false; reason: 'inactive' | 'expired'; keyId: string };

export interface KeyStoreEvents {
  /**
   * The keys changed (here, in another process, or a key reached its expiry). `revoked` holds the ids whose
   * credential stopped being valid: their sessions and WebSockets must go. Often empty (a rename, a usage flush).
   */
  changed: [revoked: ReadonlySet<string>];
  /** keys.json was changed by someone else into something unusable; the last good keys stay in force. */
  invalid: [Error];
  /** These keys' `sessionsEndedAt` moved (here or in another process): their older sessions' WebSockets must go. */
  sessionsEnded: [keyIds: ReadonlySet<string>];
  /** A key that had never been used was used now (once per key and process). */
  firstUse: [id: string];
}

export class KeyNotFoundError extends GateError {
  constructor(readonly id: string) {
    super('not_found', `no key with id ${id}`);
    this.name = 'KeyNotFoundError';
  }
}

interface Entry {
  record: KeyRecord;
  /** Infinity when the key never expires. */
  expiresAtMs: number;
  /** Tokens signed up to this time (ms) are dead; 0 when none were ended. */
  sessionsEndedAtMs: number;
  /** Built once per change so that a successful verify allocates nothing. */
  ok: VerifyResult;
}

const MALFORMED: VerifyResult = Object.freeze({ ok: false, reason: 'malformed' });
const UNKNOWN: VerifyResult = Object.freeze({ ok: false, reason: 'unknown' });
/** setTimeout's ceiling (about 24.8 days); a later expiry is reached by re-arming. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * API keys, kept in keys.json as hashes. Reads (verify, list) come from memory; every mutation is on disk before its
 * promise resolves, and changes by other processes (the CLI) arrive through the file watcher.
 */
export class KeyStore {
  readonly events = new EventEmitter<KeyStoreEvents>();
  private byHash = new Map<string, Entry>();
  private byId = new Map<string, Entry>();
  /** Last use per key id, waiting for flushUsage(): one write every few seconds instead of one per request. */
  private readonly pendingUse = new Map<string, number>();
  /** Keys whose first use was announced: lastUsedAt stays null on disk until the next flush. */
  private readonly firstUseSeen = new Set<string>();
  private expiryTimer: NodeJS.Timeout | undefined;
  /** Expiries up to this time have been announced. */
  private expiryCheckedAt = 0;

  private constructor(private readonly file: SharedDocument<KeysFile>) {
    this.reindex(file.data);
    file.events.on('change', (data) => this.reindex(data));
    file.events.on('invalid', (error) => this.events.emit('invalid', error));
  }

  /** With `sharing`, keys.json is only the local copy and the shared document (Redis) is the source of truth. */
  static async open(dataDir: string, sharing?: DocumentSharing): Promise<KeyStore> {
    const file = await LockedJsonFile.open({
      file: join(dataDir, KEYS_FILE),
      schema: keysFileSchema,
      defaults: (): KeysFile => ({ version: 1, keys: [] }),
    });
    return new KeyStore(sharing ? await sharing.share(KEYS_DOCUMENT, file, keysFileSchema) : file);
  }

  /** The hot path: sync, one checksum, one SHA-256 and one map lookup. */
  verify(key: string, now: number = Date.now()): VerifyResult {
    if (!hasValidKeyFormat(key)) return MALFORMED;
    const entry = this.byHash.get(hashKey(key));
    if (entry === undefined) return UNKNOWN;
    if (!entry.record.active) return { ok: false, reason: 'inactive', keyId: entry.record.id };
    if (entry.expiresAtMs <= now) return { ok: false, reason: 'expired', keyId: entry.record.id };
    return entry.ok;
  }

  /** For session and access tokens, which name the key by id: the same answers as verify(), minus 'malformed'. */
  verifyId(id: string, now: number = Date.now()): VerifyResult {
    const entry = this.byId.get(id);
    if (entry === undefined) return UNKNOWN;
    if (!entry.record.active) return { ok: false, reason: 'inactive', keyId: id };
    if (entry.expiresAtMs <= now) return { ok: false, reason: 'expired', keyId: id };
    return entry.ok;
  }

  /** Tokens of this key signed at or before this time (ms) are dead; 0 when none were ended. From memory. */
  sessionsEndedAt(id: string): number {
    return this.byId.get(id)?.sessionsEndedAtMs ?? 0;
  }

  list(): PublicKeyRecord[] {
    return [...this.byId.values()].map((entry) => this.toPublic(entry.record));
  }

  get(id: string): PublicKeyRecord | undefined {
    const entry = this.byId.get(id);
    return entry && this.toPublic(entry.record);
  }

  /** Like get(), for routes where a missing key is the caller's 404. */
  require(id: string): PublicKeyRecord {
    const record = this.get(id);
    if (record === undefined) throw new KeyNotFoundError(id);
    return record;
  }

  /** The plaintext key is in the result and nowhere else: it is not stored and cannot be shown again. */
  async create(input: CreateKeyInput): Promise<{ key: string; record: PublicKeyRecord }> {
    const fields = parseInput(createKeyInputSchema, input);
    const key = generateKey();
    const record = await this.file.update((draft) => {
      const now = new Date().toISOString();
      const created: KeyRecord = {
        id: unusedId(draft),
        name: fields.name,
        note: fields.note,
        role: fields.role,
        scopes: fields.scopes,
        limits: fields.limits,
        expiresAt: fields.expiresAt,
        active: true,
        createdAt: now,
        updatedAt: now,
        lastUsedAt: null,
        hash: hashKey(key),
        hint: keyHint(key),
        rotatedAt: null,
        sessionsEndedAt: null,
      };
      draft.keys.push(created);
      return created;
    });
    return { key, record: publicKeyRecord(record) };
  }

  async update(id: string, patch: UpdateKeyInput): Promise<PublicKeyRecord> {
    const fields = parseInput(updateKeyInputSchema, patch);
    return this.mutate(id, (record, now) => {
      const wasUsable = isUsableRecord(record, now);
      if (fields.name !== undefined) record.name = fields.name;
      if (fields.role !== undefined) record.role = fields.role;
      if (fields.note !== undefined) record.note = fields.note;
      if (fields.limits !== undefined) record.limits = { ...record.limits, ...fields.limits };
      if (fields.expiresAt !== undefined) record.expiresAt = fields.expiresAt;
      if (fields.active !== undefined) record.active = fields.active;
      if (fields.scopes !== undefined) record.scopes = fields.scopes;
      if (isUsableRecord(record, now) !== wasUsable) record.sessionsEndedAt = now;
    });
  }

  /** A new secret for the same key: id, limits, usage and history stay; the old secret stops working at once. */
  async rotate(id: string): Promise<{ key: string; record: PublicKeyRecord }> {
    const key = generateKey();
    const record = await this.mutate(id, (record, now) => {
      record.hash = hashKey(key);
      record.hint = keyHint(key);
      record.rotatedAt = now;
      record.sessionsEndedAt = now;
    });
    return { key, record };
  }

  setActive(id: string, active: boolean): Promise<PublicKeyRecord> {
    return this.mutate(id, (record, now) => {
      const wasUsable = isUsableRecord(record, now);
      record.active = active;
      if (isUsableRecord(record, now) !== wasUsable) record.sessionsEndedAt = now;
    });
  }

  /** "Sign out everywhere": every session and access token of the key signed until now stops working; the key does not. */
  endSessions(id: string): Promise<PublicKeyRecord> {
    return this.mutate(id, (record, now) => {
      record.sessionsEndedAt = now;
    });
  }

  /** Resolves with the record as it was before deletion. */
  async delete(id: string): Promise<PublicKeyRecord> {
    const removed = await this.file.update((draft) => {
      const index = draft.keys.findIndex((record) => record.id === id);
      const [record] = index >= 0 ? draft.keys.splice(index, 1) : [];
      if (record === undefined) throw new KeyNotFoundError(id);
      return record;
    });
    this.pendingUse.delete(id);
    this.firstUseSeen.delete(id);
    return publicKeyRecord(removed);
  }

  /** In memory only; flushUsage() persists it. */
  recordUse(id: string, at: number = Date.now()): void {
    const previous = this.pendingUse.get(id);
    if (previous === undefined && this.byId.get(id)?.record.lastUsedAt === null && !this.firstUseSeen.has(id)) {
      this.firstUseSeen.add(id);
      this.events.emit('firstUse', id);
    }
    if (previous === undefined || at > previous) this.pendingUse.set(id, at);
  }

  /** Writes every pending lastUsedAt in one update. A failed flush keeps them pending for the next one. */
  async flushUsage(): Promise<void> {
    if (this.pendingUse.size === 0) return;
    const batch = new Map(this.pendingUse);
    await this.file.update((draft) => {
      for (const record of draft.keys) {
        const at = batch.get(record.id);
        if (at !== undefined && (record.lastUsedAt === null || Date.parse(record.lastUsedAt) < at)) {
          record.lastUsedAt = new Date(at).toISOString();
        }
      }
    });
    for (const [id, at] of batch) {
      if (this.pendingUse.get(id) === at) this.pendingUse.delete(id);
    }
  }

  /** Adopts the keys as the source of truth holds them now (a CLI change to keys.json), before resolving. */
  reload(): Promise<void> {
    return this.file.reload();
  }

  /** Flushes pending usage and stops watching the keys. */
  async close(): Promise<void> {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    try {
      await this.flushUsage();
    } finally {
      await this.file.close();
    }
  }

  private async mutate(id: string, change: (record: KeyRecord, now: string) => void): Promise<PublicKeyRecord> {
    const updated = await this.file.update((draft) => {
      const record = draft.keys.find((candidate) => candidate.id === id);
      if (record === undefined) throw new KeyNotFoundError(id);
      const now = new Date().toISOString();
      change(record, now);
      record.updatedAt = now;
      return record;
    });
    return this.toPublic(updated);
  }

  /** Shows uses not yet flushed, so the dashboard is current between flushes. */
  private toPublic(record: KeyRecord): PublicKeyRecord {
    const result = publicKeyRecord(record);
    const pending = this.pendingUse.get(record.id);
    if (pending !== undefined && (result.lastUsedAt === null || Date.parse(result.lastUsedAt) < pending)) {
      result.lastUsedAt = new Date(pending).toISOString();
    }
    return result;
  }

  private reindex(data: KeysFile): void {
    const now = Date.now();
    const previous = this.byId;
    const byHash = new Map<string, Entry>();
    const byId = new Map<string, Entry>();
    for (const record of data.keys) {
      const entry: Entry = {
        record,
        expiresAtMs: record.expiresAt === null ? Infinity : Date.parse(record.expiresAt),
        sessionsEndedAtMs: record.sessionsEndedAt === null ? 0 : Date.parse(record.sessionsEndedAt),
        ok: Object.freeze({ ok: true, record }),
      };
      byHash.set(record.hash, entry);
      byId.set(record.id, entry);
    }
    this.byHash = byHash;
    this.byId = byId;

    const revoked = new Set<string>();
    const sessionsEnded = new Set<string>();
    for (const [id, before] of previous) {
      const after = byId.get(id);
      if (after !== undefined && after.sessionsEndedAtMs !== before.sessionsEndedAtMs) sessionsEnded.add(id);
      // Usable when last announced: a key that expired since then is announced here, with the other revocations.
      if (!isUsable(before, this.expiryCheckedAt)) continue;
      if (after === undefined || after.record.hash !== before.record.hash || !isUsable(after, now)) revoked.add(id);
    }
    this.expiryCheckedAt = now;
    this.armExpiryTimer(now);
    this.events.emit('changed', revoked);
    if (sessionsEnded.size > 0) this.events.emit('sessionsEnded', sessionsEnded);
  }

  /** Expiry is a change nobody writes: without this, a key's open WebSockets would outlive it. */
  private armExpiryTimer(now: number): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    let next = Infinity;
    for (const entry of this.byId.values()) {
      if (isUsable(entry, now) && entry.expiresAtMs < next) next = entry.expiresAtMs;
    }
    if (next === Infinity) return;
    this.expiryTimer = setTimeout(() => this.announceExpiries(), Math.min(next - now, MAX_TIMER_MS));
    this.expiryTimer.unref();
  }

  private announceExpiries(): void {
    const now = Date.now();
    const expired = new Set<string>();
    for (const [id, entry] of this.byId) {
      if (entry.record.active && entry.expiresAtMs > this.expiryCheckedAt && entry.expiresAtMs <= now) expired.add(id);
    }
    this.expiryCheckedAt = now;
    this.armExpiryTimer(now);
    if (expired.size > 0) this.events.emit('changed', expired);
  }
}

function isUsable(entry: Entry, now: number): boolean {
  return entry.record.active && entry.expiresAtMs > now;
}

function isUsableRecord(record: KeyRecord, nowIso: string): boolean {
  return record.active && (record.expiresAt === null || Date.parse(record.expiresAt) > Date.parse(nowIso));
}

function unusedId(file: KeysFile): string {
  for (;;) {
    const id = newKeyId();
    if (!file.keys.some((record) => record.id === id)) return id;
  }
}

/** Bad input becomes a 400 naming the field, for the admin API and the CLI alike. */
function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new GateError('bad_request', `invalid key fields: ${field}${issue?.message ?? 'unexpected input'}`);
}
