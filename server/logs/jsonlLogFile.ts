import { chmod, mkdir, open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger as PinoLogger } from 'pino';
import { silentLogger, type Logger } from '../appLog/logger.js';
import { Destination } from './fileDestination.js';
import { listLogFiles, logFileName, logFileStamp, type LogPosition } from './logQuery.js';

/** Under the data dir. */
export const LOGS_DIR = 'logs';
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_FILES = 5;

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

/** Bytes one fs.write may carry: big enough that a burst is written in a few syscalls, not one per 16 KB. */
const MAX_WRITE_BYTES = 1024 * 1024;
/** Buffered but unwritten bytes (a stalled disk): past this, lines are dropped instead of growing memory. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
const WARN_INTERVAL_MS = 10_000;

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

  /**
   * Queues one line already serialized by the caller (one JSON object and its line break), as `append` does for a
   * record: for a log with one fixed shape, whose own serializer is cheaper than pino's generic one.
   */
  appendSerialized(line: string): LogPosition | undefined {
    if (this.#closed) return undefined;
    this.#writeLine(line);
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
