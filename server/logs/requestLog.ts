import { chmod, mkdir, open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger as PinoLogger } from 'pino';
import { silentLogger, type Logger } from '../log/logger.js';
import type { FinishedRequest, RequestObserver } from '../observe/finishedRequest.js';
import type { RouteClass } from '../policy/routeClasses.js';
import {
  beforeSince,
  clampLimit,
  comparePositions,
  encodeCursor,
  isRequestLogLine,
  listLogFiles,
  logFileName,
  logFileStamp,
  matchesRequest,
  queryRequestFiles,
  readLinesNewestFirst,
  requireCursor,
  type LogPosition,
  type Page,
  type RequestQuery,
} from './logQuery.js';

/** Under the data dir. */
export const LOGS_DIR = 'logs';
export const REQUEST_LOG_PREFIX = 'requests';
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_FILES = 5;
export const DEFAULT_RING_SIZE = 1000;

/** One line of `requests-*.jsonl`, and one event of the live stream. */
export interface RequestLogLine {
  /** Request start, ISO 8601. */
  time: string;
  requestId: string;
  keyId: string | null;
  keyName: string | null;
  clientIp: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  upstreamMs: number | null;
  bytesIn: number;
  bytesOut: number;
  routeClass: RouteClass | null;
  kind: 'http' | 'ws';
  refusal?: string;
  promptId?: string;
}

export interface RotationOptions {
  /** A file is closed before it would grow past this (default 10 MB, or a tenth of a retention's budget). */
  maxBytes?: number;
  /** Files kept, the one being written included (default 5 without a retention, unlimited with one). */
  maxFiles?: number;
  /** Keep lines by age and total size instead of by file count. */
  retention?: Retention;
  /** The clock, for tests. */
  now?: () => number;
}

/**
 * How much of a log is kept: whole files are dropped, oldest first, once their newest line is older than `maxAgeMs`
 * or the files together (the one being written included) would pass `maxTotalBytes`.
 */
export interface Retention {
  maxAgeMs: number;
  maxTotalBytes: number;
}

/** With a retention, a new file starts at least this often, so age pruning drops an hour at a time. */
export const ROTATE_AFTER_MS = 3600_000;
/** How often a log with a retention checks for a due rotation and for files that aged out. */
const MAINTAIN_EVERY_MS = 5 * 60_000;
/** The largest file a retention budget makes: reading one back stays quick. */
const MAX_FILE_BYTES = 10 * 1024 * 1024;

/** Ten files per budget, so that dropping the oldest gives back a tenth of it, not half. */
export function fileBytesFor(retention: Retention): number {
  return Math.max(1024, Math.min(MAX_FILE_BYTES, Math.floor(retention.maxTotalBytes / 10)));
}

function checkRetention(retention: Retention): void {
  if (!Number.isSafeInteger(retention.maxAgeMs) || retention.maxAgeMs < 1)
    throw new RangeError('retention.maxAgeMs must be a positive whole number');
  if (!Number.isSafeInteger(retention.maxTotalBytes) || retention.maxTotalBytes < 2048)
    throw new RangeError('retention.maxTotalBytes must be at least 2048');
}

const KEY_LIKE = /cgk_[0-9A-Za-z]*/g;
const JWT_LIKE = /eyJ[\w-]*(?:\.[\w-]*){0,2}/g;
const TOKEN_PARAM = /([?&;]token=)[^&#\s]*/gi;

/**
 * Log files are read by people and copied into bug reports, so nothing that works as a credential may land there.
 * The proxy already logs normalized paths without their query; this is the second line of defence.
 */
export function redactSecrets(value: string): string {
  if (!value.includes('cgk_') && !value.includes('eyJ') && !/token=/i.test(value)) return value;
  return value
    .replace(KEY_LIKE, '[redacted-key]')
    .replace(JWT_LIKE, '[redacted-token]')
    .replace(TOKEN_PARAM, '$1[redacted]');
}

function redactNullable(value: string | null): string | null {
  return value === null ? null : redactSecrets(value);
}

/** Tenths of a millisecond are all a reader can use; the raw float would be noise in every line. */
function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

let lastIsoMs = Number.NaN;
let lastIso = '';

/** A busy gate finishes many requests per millisecond: format each millisecond once. */
function isoTime(ms: number): string {
  const at = Number.isFinite(ms) ? ms : Date.now();
  if (at !== lastIsoMs) {
    lastIso = new Date(at).toISOString();
    lastIsoMs = at;
  }
  return lastIso;
}

export function toLogLine(finished: FinishedRequest): RequestLogLine {
  const line: RequestLogLine = {
    time: isoTime(finished.time),
    requestId: redactSecrets(finished.requestId),
    keyId: redactNullable(finished.keyId),
    keyName: redactNullable(finished.keyName),
    clientIp: redactSecrets(finished.clientIp),
    method: redactSecrets(finished.method),
    path: redactSecrets(finished.path),
    status: finished.status,
    durationMs: roundMs(finished.durationMs),
    upstreamMs: finished.upstreamMs === null ? null : roundMs(finished.upstreamMs),
    bytesIn: finished.bytesIn,
    bytesOut: finished.bytesOut,
    routeClass: finished.routeClass,
    kind: finished.kind,
  };
  if (finished.refusal !== undefined) line.refusal = redactSecrets(finished.refusal);
  if (finished.promptId !== undefined) line.promptId = redactSecrets(finished.promptId);
  return line;
}

type SonicBoom = ReturnType<typeof pino.destination>;

/** Bytes one fs.write may carry: big enough that a burst is written in a few syscalls, not one per 16 KB. */
const MAX_WRITE_BYTES = 1024 * 1024;
/** Buffered but unwritten bytes (a stalled disk): past this, lines are dropped instead of growing memory. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
const WARN_INTERVAL_MS = 10_000;

/** One sonic-boom over one file, with the byte counts needed to tell when everything handed to it is on disk. */
class Destination {
  accepted = 0;
  #written = 0;
  #failed = false;
  #opened = false;
  #openFailed = false;
  #ending = false;
  #waiters: Array<() => void> = [];
  readonly write: (chunk: Buffer) => boolean;

  constructor(
    readonly file: string,
    readonly sonic: SonicBoom,
    batched: boolean,
    onError: (error: Error) => void
  ) {
    // contentMode 'buffer' makes sonic-boom take Buffers; its typings only know strings.
    this.write = sonic.write.bind(sonic) as unknown as (chunk: Buffer) => boolean;
    sonic.once('ready', () => {
      this.#opened = true;
      if (this.#waiters.length > 0) this.#push();
    });
    sonic.on('write', (bytes: number) => {
      this.#written += bytes;
      this.#failed = false;
      if (this.#written >= this.accepted) this.#release();
      // A batched sonic-boom stops after this write while less than its batch is left, and it is still writing
      // now, so a flush asked for in this callback would be ignored: ask again once the callback returned.
      else if (batched && this.#waiters.length > 0) queueMicrotask(() => this.#push());
    });
    sonic.on('error', (error: Error) => {
      if (!this.#opened) this.#openFailed = true;
      this.#failed = true;
      this.#release();
      onError(error);
    });
  }

  /** Resolves once every accepted byte is written, or a write failed (best effort: nothing waits forever). */
  drained(): Promise<void> {
    if (this.#written >= this.accepted || this.#failed) return Promise.resolve();
    const drained = new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.#push();
    return drained;
  }

  /** Starts writing what a batched sonic-boom holds back; a no-op while it writes (see the 'write' handler). */
  #push(): void {
    if (this.#opened && !this.#ending) this.sonic.flush();
  }

  /** Writes what is buffered, then closes the file. */
  end(): Promise<void> {
    // sonic-boom cannot end a stream whose file never opened: it would wait for a 'close' that never comes.
    if (this.#openFailed || this.#ending) return Promise.resolve();
    this.#ending = true;
    return new Promise((resolve) => {
      this.sonic.once('close', resolve);
      this.sonic.once('error', () => resolve());
      this.sonic.end();
    });
  }

  #release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}

export interface JsonlLogFileOptions extends RotationOptions {
  dir: string;
  prefix: string;
  logger?: Logger;
  /**
   * Hold lines back until this many bytes wait (or `BATCH_FLUSH_MS` passed), so that a busy gate writes the log in
   * a few large fs.writes instead of one per event-loop turn: each fs.write costs the event loop several µs. 0
   * (the default) writes every line at once.
   */
  batchBytes?: number;
  /** Called after every prune: the oldest file may have changed. */
  onPruned?: () => void;
}

/** Longest a line of a batched log waits in memory: also what a crash can lose of it. */
export const BATCH_FLUSH_MS = 1000;
/** The request log's batch: about 200 lines, a few ms of a busy gate's traffic. */
export const REQUEST_LOG_BATCH_BYTES = 64 * 1024;

/**
 * Appends JSON lines to `<dir>/<prefix>-<stamp>.jsonl`, starting a new file before one would pass `maxBytes` and
 * keeping the newest `maxFiles`, or with a retention the files within its age and size (see `Retention`).
 *
 * pino serializes; the bytes go to an async sonic-boom (fs.write on libuv's pool) in the same thread. A worker
 * transport such as pino-roll was measured too: per line it costs the event loop about as much (the JSON is built
 * on the main thread either way), but when the worker falls behind, thread-stream blocks the main thread
 * (Atomics.wait, up to 80 ms per call in a burst of 200k lines), while sonic-boom with `maxLength` drops lines and
 * never blocks. It also rolls only on 'drain' and prunes only files it created itself, and a worker thread per log
 * is awkward inside a packaged Electron app. Rotating here also tells us the exact file and offset of every line,
 * which the query cursors and the in-memory ring rely on.
 */
export class JsonlLogFile {
  readonly dir: string;
  readonly prefix: string;
  #maxBytes: number;
  readonly #maxFiles: number;
  #retention: Retention | undefined;
  readonly #now: () => number;
  readonly #onPruned: (() => void) | undefined;
  #maintenance: NodeJS.Timeout | undefined;
  /** Creation stamp of the file being written. */
  #currentStamp: number;
  readonly #batchBytes: number;
  readonly #logger: Logger;
  readonly #pino: PinoLogger;
  #dest: Destination;
  #size: number;
  #lastStamp: number;
  #position: LogPosition;
  #timeField = '';
  #justDropped = false;
  #dropped = 0;
  #droppedSinceWarning = 0;
  #lastWarning = 0;
  #closed = false;
  readonly #pending = new Set<Promise<unknown>>();

  private constructor(
    options: JsonlLogFileOptions,
    current: { file: string; size: number } | undefined,
    lastStamp: number
  ) {
    this.dir = options.dir;
    this.prefix = options.prefix;
    this.#retention = options.retention;
    this.#maxBytes = options.maxBytes ?? (options.retention ? fileBytesFor(options.retention) : DEFAULT_MAX_BYTES);
    this.#maxFiles = options.maxFiles ?? (options.retention ? Number.POSITIVE_INFINITY : DEFAULT_MAX_FILES);
    this.#now = options.now ?? Date.now;
    this.#onPruned = options.onPruned;
    this.#batchBytes = options.batchBytes ?? 0;
    this.#logger = options.logger ?? silentLogger();
    this.#lastStamp = lastStamp;
    this.#currentStamp = lastStamp;
    const file = current?.file ?? this.#newFileName();
    this.#size = current?.size ?? 0;
    this.#dest = this.#openDestination(file);
    this.#position = { file, offset: this.#size };
    this.#pino = pino(
      {
        base: undefined,
        // pino always starts a line with the level; an empty level object leaves just `{`, so the "timestamp"
        // (the record's own time, not the time of writing) becomes the first field, without a leading comma.
        formatters: { level: () => ({}) },
        timestamp: () => this.#timeField,
      },
      { write: (line: string) => this.#writeLine(line) }
    );
  }

  static async open(options: JsonlLogFileOptions): Promise<JsonlLogFile> {
    if (options.retention) checkRetention(options.retention);
    const maxBytes = options.maxBytes ?? (options.retention ? fileBytesFor(options.retention) : DEFAULT_MAX_BYTES);
    const maxFiles = options.maxFiles ?? DEFAULT_MAX_FILES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024) throw new RangeError('maxBytes must be at least 1024');
    if (!Number.isSafeInteger(maxFiles) || maxFiles < 1) throw new RangeError('maxFiles must be at least 1');
    const batchBytes = options.batchBytes ?? 0;
    if (!Number.isSafeInteger(batchBytes) || batchBytes < 0 || batchBytes >= MAX_WRITE_BYTES) {
      throw new RangeError(`batchBytes must be between 0 and ${MAX_WRITE_BYTES - 1}`);
    }
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    // mkdir's mode does not apply to a folder that already exists, nor get past a loose umask.
    await chmod(options.dir, 0o700);
    const files = await listLogFiles(options.dir, options.prefix);
    await Promise.all(files.map((file) => chmod(join(options.dir, file), 0o600).catch(() => undefined)));
    const newest = files[0];
    const lastStamp = newest === undefined ? 0 : (logFileStamp(options.prefix, newest) ?? 0);
    let current: { file: string; size: number } | undefined;
    // Under a retention a file older than an hour is not continued either, so that it can age out.
    const fresh = !options.retention || (options.now ?? Date.now)() - lastStamp < ROTATE_AFTER_MS;
    if (newest !== undefined && fresh) {
      const size = (await stat(join(options.dir, newest))).size;
      // A file left with a half-written last line (a crash) is not appended to: the next line would be glued on.
      if (size < maxBytes && (size === 0 || (await endsWithNewline(join(options.dir, newest), size)))) {
        current = { file: newest, size };
      }
    }
    const log = new JsonlLogFile(options, current, lastStamp);
    if (options.retention) {
      await log.#prune();
      log.#maintenance = setInterval(() => void log.maintain(), MAINTAIN_EVERY_MS).unref();
    }
    return log;
  }

  /** Applies a new retention now (files it no longer covers are removed before this resolves). */
  async setRetention(retention: Retention): Promise<void> {
    checkRetention(retention);
    this.#retention = retention;
    this.#maxBytes = fileBytesFor(retention);
    await this.#prune();
  }

  /** Starts a new file once the current one is an hour old, and drops what aged out (a timer calls this). */
  async maintain(): Promise<void> {
    if (this.#closed || !this.#retention) return;
    if (this.#size > 0 && this.#now() - this.#currentStamp >= ROTATE_AFTER_MS) this.#rotate();
    await Promise.all([...this.#pending]);
    await this.#prune();
  }

  /** The file being written. */
  get file(): string {
    return this.#dest.file;
  }

  /** Lines dropped because the disk did not keep up. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Queues one line; returns where it goes (also for a dropped line: the place it would have taken, which keeps
   * cursors ordered). Undefined once closed. Never blocks on the disk.
   */
  append(record: { time: string }): LogPosition | undefined {
    if (this.#closed) return undefined;
    const { time, ...fields } = record;
    this.#timeField = `"time":${JSON.stringify(time)}`;
    this.#pino.info(fields);
    return this.#position;
  }

  /** Resolves when everything appended so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
    await this.#dest.drained();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#maintenance);
    await Promise.all([...this.#pending]);
    await this.#dest.end();
    // Every file is on disk now: a prune that ran while a destination was still opening may have
    // missed it and kept an older file.
    await this.#prune();
  }

  #writeLine(line: string): void {
    const chunk = Buffer.from(line, 'utf8');
    if (this.#size > 0 && this.#size + chunk.length > this.#maxBytes) this.#rotate();
    const dest = this.#dest;
    this.#position = { file: dest.file, offset: this.#size };
    this.#justDropped = false;
    dest.write(chunk); // emits 'drop' synchronously when over maxLength
    if (this.#justDropped) {
      this.#noteDropped();
    } else {
      this.#size += chunk.length;
      dest.accepted += chunk.length;
    }
  }

  #rotate(): void {
    const retired = this.#dest;
    this.#dest = this.#openDestination(this.#newFileName());
    this.#size = 0;
    // Once the retired file is closed it is surely on disk, so the listing sees it.
    this.#track(retired.end().then(() => this.#prune()));
  }

  #track(promise: Promise<unknown>): void {
    this.#pending.add(promise);
    void promise.finally(() => this.#pending.delete(promise));
  }

  /** Stamps only grow, even when the clock steps back or two files start in the same millisecond. */
  #newFileName(): string {
    this.#lastStamp = Math.max(this.#now(), this.#lastStamp + 1);
    this.#currentStamp = this.#lastStamp;
    return logFileName(this.prefix, this.#lastStamp);
  }

  #openDestination(file: string): Destination {
    const sonic = pino.destination({
      dest: join(this.dir, file),
      sync: false,
      mode: 0o600,
      contentMode: 'buffer',
      minLength: this.#batchBytes,
      periodicFlush: this.#batchBytes > 0 ? BATCH_FLUSH_MS : 0,
      maxWrite: MAX_WRITE_BYTES,
      maxLength: MAX_BUFFERED_BYTES,
    });
    sonic.on('drop', () => {
      this.#justDropped = true;
    });
    return new Destination(file, sonic, this.#batchBytes > 0, (error) => {
      this.#logger.warn({ err: error, file }, 'could not write the log file');
    });
  }

  /** Lists the folder instead of remembering names, so files of an earlier run or another process are pruned too. */
  async #prune(): Promise<void> {
    const files = await listLogFiles(this.dir, this.prefix).catch(() => []);
    // The current file counts even before it is on disk (its destination opens asynchronously);
    // counting only what the listing shows would keep one file too many after fast rotations.
    const current = this.#dest.file;
    const others = files.filter((file) => file !== current);
    const doomed = this.#retention
      ? await this.#outsideRetention(this.#retention, current, others)
      : others.slice(Math.max(0, this.#maxFiles - 1));
    for (const file of doomed) {
      try {
        await unlink(join(this.dir, file));
      } catch (error) {
        // Windows refuses while a reader has it open; the next rotation tries again.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.#logger.warn({ err: error, file }, 'could not remove an old log file');
        }
      }
    }
    this.#onPruned?.();
  }

  /**
   * The files (newest first, the current one left out) past the retention. A file's lines all came before its last
   * write and before the next file started: the earlier of the two is the file's age. Once one file goes, every
   * older one goes too: the log always reaches back without gaps.
   */
  async #outsideRetention(retention: Retention, current: string, others: readonly string[]): Promise<string[]> {
    const oldestKept = this.#now() - retention.maxAgeMs;
    let used = this.#size;
    let newerStamp = logFileStamp(this.prefix, current) ?? this.#currentStamp;
    for (let i = 0; i < others.length; i++) {
      const file = others[i]!;
      const stats = await stat(join(this.dir, file)).catch(() => undefined);
      used += stats?.size ?? 0;
      const lastWrite = Math.min(newerStamp, stats?.mtimeMs ?? newerStamp);
      if (i + 1 >= this.#maxFiles || used > retention.maxTotalBytes || lastWrite < oldestKept) return others.slice(i);
      newerStamp = logFileStamp(this.prefix, file) ?? newerStamp;
    }
    return [];
  }

  #noteDropped(): void {
    this.#dropped++;
    this.#droppedSinceWarning++;
    const now = Date.now();
    if (now - this.#lastWarning < WARN_INTERVAL_MS) return;
    this.#logger.warn(
      { dropped: this.#droppedSinceWarning, prefix: this.prefix },
      'log lines dropped: the disk does not keep up'
    );
    this.#lastWarning = now;
    this.#droppedSinceWarning = 0;
  }
}

/** The `time` of a file's first whole line; undefined when it has none (empty, or a damaged start). */
async function firstLineTime(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const end = head.subarray(0, bytesRead).indexOf(0x0a);
    if (end === -1) return undefined;
    const value: unknown = JSON.parse(head.toString('utf8', 0, end));
    return isRequestLogLine(value) ? value.time : undefined;
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

async function endsWithNewline(path: string, size: number): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, size - 1);
    return byte[0] === 0x0a;
  } finally {
    await handle.close();
  }
}

export interface RequestLogOptions extends RotationOptions {
  dataDir: string;
  /** Recent lines kept in memory (default 1000). */
  ringSize?: number;
  logger?: Logger;
}

interface RingEntry {
  line: RequestLogLine;
  position: LogPosition;
}

/**
 * The request log: one line per finished request in `<dataDir>/logs/requests-*.jsonl`, and the newest lines in
 * memory so that the dashboard's first page never touches the disk.
 */
export class RequestLog {
  readonly dir: string;
  readonly #file: JsonlLogFile;
  readonly #logger: Logger;
  readonly #ring: Array<RingEntry | undefined>;
  /** Index the next entry goes to. */
  #head = 0;
  #count = 0;
  #oldestTime: string | null = null;
  /** Only the newest refresh may set the oldest time: prunes can overlap. */
  #refreshes = 0;

  private constructor(file: JsonlLogFile, ringSize: number, logger: Logger) {
    this.dir = file.dir;
    this.#file = file;
    this.#logger = logger;
    this.#ring = new Array<RingEntry | undefined>(ringSize);
  }

  static async open(options: RequestLogOptions): Promise<RequestLog> {
    const logger = options.logger ?? silentLogger();
    const ringSize = options.ringSize ?? DEFAULT_RING_SIZE;
    if (!Number.isSafeInteger(ringSize) || ringSize < 1) throw new RangeError('ringSize must be at least 1');
    // The file prunes while it opens, before the RequestLog exists to hear of it.
    const opened: { log?: RequestLog } = {};
    const file = await JsonlLogFile.open({
      dir: join(options.dataDir, LOGS_DIR),
      prefix: REQUEST_LOG_PREFIX,
      maxBytes: options.maxBytes,
      maxFiles: options.maxFiles,
      retention: options.retention,
      now: options.now,
      logger,
      batchBytes: REQUEST_LOG_BATCH_BYTES,
      onPruned: () => {
        if (opened.log) void opened.log.#refreshOldest();
      },
    });
    const log = new RequestLog(file, ringSize, logger);
    opened.log = log;
    await log.#prime();
    await log.#refreshOldest();
    return log;
  }

  /** Time of the oldest line the log still has, ISO 8601; null while it has none. */
  get oldestTime(): string | null {
    return this.#oldestTime;
  }

  /** Applies a new retention; resolves once files it no longer covers are gone. */
  async setRetention(retention: Retention): Promise<void> {
    await this.#file.setRetention(retention);
    await this.#refreshOldest();
  }

  /** Starts an hourly file and drops what aged out; a timer does this every few minutes. */
  async maintain(): Promise<void> {
    await this.#file.maintain();
    await this.#refreshOldest();
  }

  /** The file being written. */
  get currentFile(): string {
    return this.#file.file;
  }

  get droppedLines(): number {
    return this.#file.dropped;
  }

  readonly observe: RequestObserver = (finished) => {
    try {
      const line = toLogLine(finished);
      const position = this.#file.append(line);
      if (position) this.#push({ line, position });
      this.#oldestTime ??= line.time;
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not log a request');
    }
  };

  /** Up to `limit` newest lines from memory, newest first. */
  recent(limit: number = this.#ring.length): RequestLogLine[] {
    const lines: RequestLogLine[] = [];
    for (const entry of this.#newestFirst()) {
      if (lines.length >= limit) break;
      lines.push(entry.line);
    }
    return lines;
  }

  /**
   * Newest first. The ring answers first; the files continue where the ring ends, so a page can span both and the
   * `next` cursor (a file position) works across them.
   */
  async query(query: RequestQuery = {}): Promise<Page<RequestLogLine>> {
    const limit = clampLimit(query.limit);
    const before = requireCursor(REQUEST_LOG_PREFIX, query.before);
    const filter = query;
    const items: RequestLogLine[] = [];
    let last: LogPosition | undefined;
    let fileBefore = before;
    const oldest = this.#oldest();
    if (oldest && (!before || comparePositions(before, oldest.position) > 0)) {
      for (const entry of this.#newestFirst()) {
        if (before && comparePositions(entry.position, before) >= 0) continue;
        if (beforeSince(filter, entry.line)) return { items, next: null };
        if (!matchesRequest(filter, entry.line)) continue;
        items.push(entry.line);
        last = entry.position;
        if (items.length >= limit) return { items, next: encodeCursor(last) };
      }
      fileBefore = oldest.position;
    }
    // Lines still held in the write batch are newer than the ring's oldest, but the files must end where it begins.
    await this.#file.flush();
    const rest = await queryRequestFiles(this.dir, REQUEST_LOG_PREFIX, filter, limit - items.length, fileBefore);
    items.push(...rest.items);
    last = rest.last ?? last;
    return { items, next: !rest.done && items.length >= limit && last ? encodeCursor(last) : null };
  }

  /** Resolves when every observed request is on disk. */
  flush(): Promise<void> {
    return this.#file.flush();
  }

  close(): Promise<void> {
    return this.#file.close();
  }

  #push(entry: RingEntry): void {
    this.#ring[this.#head] = entry;
    this.#head = (this.#head + 1) % this.#ring.length;
    if (this.#count < this.#ring.length) this.#count++;
  }

  *#newestFirst(): Generator<RingEntry> {
    const size = this.#ring.length;
    for (let i = 1; i <= this.#count; i++) {
      const entry = this.#ring[(this.#head - i + size) % size];
      if (entry) yield entry;
    }
  }

  #oldest(): RingEntry | undefined {
    if (this.#count === 0) return undefined;
    const size = this.#ring.length;
    return this.#ring[(this.#head - this.#count + size) % size];
  }

  /**
   * Reads the first line of the oldest file that has one, and forgets lines in memory whose file was pruned: the
   * dashboard must not show what the log no longer keeps.
   */
  async #refreshOldest(): Promise<void> {
    const refresh = ++this.#refreshes;
    let oldest: { file: string; time: string } | undefined;
    try {
      for (const file of (await listLogFiles(this.dir, REQUEST_LOG_PREFIX)).reverse()) {
        const time = await firstLineTime(join(this.dir, file));
        if (time !== undefined) {
          oldest = { file, time };
          break;
        }
      }
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not read the request log');
      return;
    }
    if (refresh !== this.#refreshes) return;
    if (oldest) {
      let entry = this.#oldest();
      while (entry && entry.position.file < oldest.file) {
        this.#count--;
        entry = this.#oldest();
      }
    }
    this.#oldestTime = oldest?.time ?? this.#oldest()?.line.time ?? null;
  }

  /** After a restart, the ring starts from the newest lines on disk. */
  async #prime(): Promise<void> {
    const entries: RingEntry[] = [];
    try {
      for await (const { text, position } of readLinesNewestFirst(this.dir, REQUEST_LOG_PREFIX)) {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          continue;
        }
        if (!isRequestLogLine(value)) continue;
        entries.push({ line: value, position });
        if (entries.length >= this.#ring.length) break;
      }
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not read the request log');
    }
    for (let i = entries.length - 1; i >= 0; i--) this.#push(entries[i]!);
  }
}
