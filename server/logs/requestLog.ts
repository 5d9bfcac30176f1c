import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../appLog/logger.js';
import type { RequestObserver } from '../observe/finishedRequest.js';
import type { RuntimeSettings } from '../settings/settingsSchema.js';
import { JsonlLogFile, LOGS_DIR, type Retention, type RotationOptions } from './jsonlLogFile.js';
import {
  clampLimit,
  comparePositions,
  encodeCursor,
  listLogFiles,
  readLinesNewestFirst,
  requireCursor,
  type LogPosition,
  type Page,
} from './logQuery.js';
import { isRequestLogLine, serializeRequestLogLine, toLogLine, type RequestLogLine } from './requestLogLine.js';
import { beforeSince, matchesRequest, queryRequestFiles, type RequestQuery } from './requestQuery.js';

export const REQUEST_LOG_PREFIX = 'requests';
export const DEFAULT_RING_SIZE = 1000;
/** The request log's batch: about 200 lines, a few ms of a busy gate's traffic. */
export const REQUEST_LOG_BATCH_BYTES = 64 * 1024;

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

/** The retention the operator's settings (days, megabytes) ask for. */
export function logRetentionOf(settings: RuntimeSettings['logRetention']): Retention {
  return { maxAgeMs: settings.days * 24 * 3600_000, maxTotalBytes: settings.maxMegabytes * 1024 * 1024 };
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

  /** A retention from a settings change: applied in the background, a failure only warns. */
  applyRetention(retention: Retention): void {
    this.setRetention(retention).catch((error: unknown) =>
      this.#logger.warn({ err: error }, 'could not apply the log retention')
    );
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
      const position = this.#file.appendSerialized(serializeRequestLogLine(line));
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
