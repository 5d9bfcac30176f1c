import { join } from 'node:path';
import { silentLogger, type Logger } from '../appLog/logger.js';
import { clampLimit, nextCursor, requireCursor, scanFiles, type Page } from './logQuery.js';
import { JsonlLogFile, LOGS_DIR, type RotationOptions } from './jsonlLogFile.js';
import { redactSecrets } from './redactSecrets.js';

export const AUDIT_LOG_PREFIX = 'audit';

export const AUDIT_ACTIONS = [
  'key.created',
  'key.updated',
  'key.rotated',
  'key.deactivated',
  'key.activated',
  'key.deleted',
  'key.sessions_ended',
  'settings.updated',
  'mode.changed',
  'sharing.changed',
  'login',
  'login.failed',
  'logout',
  'lockout',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEvent {
  action: AuditAction;
  /** Who did it; null for the CLI, a failed login or the gate itself. */
  actorKeyId: string | null;
  clientIp: string | null;
  /** What it was done to, usually a key id. */
  target?: string;
  details?: Record<string, unknown>;
}

/** One line of `audit-*.jsonl`. */
export interface AuditRecord extends AuditEvent {
  /** ISO 8601, when it was recorded. */
  time: string;
}

export interface AuditQuery {
  action?: AuditAction;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Default 100, at most 1000. */
  limit?: number;
  /** Cursor from a previous page's `next`. */
  before?: string;
}

export interface AuditLogOptions extends RotationOptions {
  dataDir: string;
  logger?: Logger;
}

/** Field names whose values are secrets whatever they look like (a key hash is not recognisable as one). */
const SECRET_FIELDS = new Set(['key', 'hash', 'secret', 'password', 'token', 'cookie', 'authorization']);
const MAX_DEPTH = 6;

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    out[name] = SECRET_FIELDS.has(name.toLowerCase()) ? '[redacted]' : redactValue(field, depth + 1);
  }
  return out;
}

/** Details become plain JSON first (dates, toJSON), so what is redacted is exactly what is written. */
function safeDetails(details: Record<string, unknown>): Record<string, unknown> {
  try {
    const plain: unknown = JSON.parse(JSON.stringify(details));
    const redacted = redactValue(plain, 0);
    return typeof redacted === 'object' && redacted !== null && !Array.isArray(redacted)
      ? (redacted as Record<string, unknown>)
      : {};
  } catch {
    return { unserializable: true };
  }
}

function isAuditRecord(value: unknown): value is AuditRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<Record<keyof AuditRecord, unknown>>;
  return (
    typeof record.time === 'string' &&
    typeof record.action === 'string' &&
    (typeof record.actorKeyId === 'string' || record.actorKeyId === null)
  );
}

/**
 * Key and settings changes, logins and lockouts, in `<dataDir>/logs/audit-*.jsonl`. The CLI may write the same
 * files while the app runs: every line is one append, and readers take the files as they find them.
 */
export class AuditLog {
  readonly dir: string;
  readonly #file: JsonlLogFile;
  readonly #logger: Logger;

  private constructor(file: JsonlLogFile, logger: Logger) {
    this.dir = file.dir;
    this.#file = file;
    this.#logger = logger;
  }

  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const logger = options.logger ?? silentLogger();
    const file = await JsonlLogFile.open({
      dir: join(options.dataDir, LOGS_DIR),
      prefix: AUDIT_LOG_PREFIX,
      maxBytes: options.maxBytes,
      maxFiles: options.maxFiles,
      logger,
    });
    return new AuditLog(file, logger);
  }

  /** Queues the line and returns at once; never throws (an audit failure must not fail the change it records). */
  record(event: AuditEvent): void {
    try {
      const record: AuditRecord = {
        time: new Date().toISOString(),
        action: event.action,
        actorKeyId: event.actorKeyId === null ? null : redactSecrets(event.actorKeyId),
        clientIp: event.clientIp === null ? null : redactSecrets(event.clientIp),
      };
      if (event.target !== undefined) record.target = redactSecrets(event.target);
      if (event.details !== undefined) record.details = safeDetails(event.details);
      this.#file.append(record);
    } catch (error) {
      this.#logger.warn({ err: error, action: event.action }, 'could not write the audit log');
    }
  }

  /** Newest first, across rotated files, stopping once `limit` matched. */
  async query(query: AuditQuery = {}): Promise<Page<AuditRecord>> {
    const limit = clampLimit(query.limit);
    const before = requireCursor(AUDIT_LOG_PREFIX, query.before);
    // Audit lines are few and a caller expects to see the change it just made.
    await this.#file.flush();
    const { action, since } = query;
    const result = await scanFiles<AuditRecord>({
      dir: this.dir,
      prefix: AUDIT_LOG_PREFIX,
      before,
      limit,
      prefilter: action === undefined ? undefined : (text) => text.includes(`"action":${JSON.stringify(action)}`),
      accept: (value) => (isAuditRecord(value) ? value : undefined),
      match: (record) => action === undefined || record.action === action,
      // Lines are appended in time order (give or take another process's clock).
      exhausted: (record) => since !== undefined && Date.parse(record.time) < since,
    });
    return { items: result.items, next: nextCursor(result, limit) };
  }

  flush(): Promise<void> {
    return this.#file.flush();
  }

  close(): Promise<void> {
    return this.#file.close();
  }
}
