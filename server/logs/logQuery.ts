import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { GateError } from '../errors.js';

/** Where one line starts: a log file's base name and the byte offset of the line in it. */
export interface LogPosition {
  file: string;
  offset: number;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next (older) page: pass it back as `before`; null when this page was the last. */
  next: string | null;
}

export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;

/**
 * `<prefix>-2025-06-01T12-30-45-123Z.jsonl`: the stamp is fixed width, so name order is age order, and a file keeps
 * its name for life, so a cursor naming it stays valid across rotations (until the file itself is pruned).
 */
const STAMP = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

export function logFileName(prefix: string, stampMs: number): string {
  return `${prefix}-${new Date(stampMs).toISOString().replace(/[:.]/g, '-')}.jsonl`;
}

/** The creation stamp in a log file name; undefined when the name is not one of ours. */
export function logFileStamp(prefix: string, name: string): number | undefined {
  if (!name.startsWith(`${prefix}-`) || !name.endsWith('.jsonl')) return undefined;
  const stamp = name.slice(prefix.length + 1, -'.jsonl'.length);
  if (!STAMP.test(stamp)) return undefined;
  const iso = `${stamp.slice(0, 10)}T${stamp.slice(11, 13)}:${stamp.slice(14, 16)}:${stamp.slice(17, 19)}.${stamp.slice(20)}`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The prefix's log files in `dir`, newest first; none when the folder does not exist yet. */
export async function listLogFiles(dir: string, prefix: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => logFileStamp(prefix, name) !== undefined)
    .sort()
    .reverse();
}

export function comparePositions(a: LogPosition, b: LogPosition): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.offset - b.offset;
}

export function encodeCursor(position: LogPosition): string {
  return Buffer.from(JSON.stringify([position.file, position.offset])).toString('base64url');
}

/** Only a cursor naming one of the prefix's own files is accepted: it must never point anywhere else on disk. */
export function decodeCursor(prefix: string, cursor: string): LogPosition | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const file: unknown = value[0];
    const offset: unknown = value[1];
    if (typeof file !== 'string' || logFileStamp(prefix, file) === undefined) return undefined;
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return undefined;
    return { file, offset };
  } catch {
    return undefined;
  }
}

export function requireCursor(prefix: string, cursor: string | undefined): LogPosition | undefined {
  if (cursor === undefined) return undefined;
  const position = decodeCursor(prefix, cursor);
  if (!position) throw new GateError('bad_request', 'The before cursor is not valid; start again without it');
  return position;
}

const CHUNK_BYTES = 64 * 1024;
/** Longer "lines" are not ours (a damaged file): skipped rather than buffered without end. */
const MAX_LINE_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * The lines of one file from `end` (default: the end of the file) back to its start, newest first, read in 64 KB
 * chunks: memory stays at one chunk plus one line however big the file is. Without `end`, a last line not yet
 * finished by the writer is skipped.
 */
async function* linesBackward(
  dir: string,
  file: string,
  end: number | undefined
): AsyncGenerator<{ text: string; position: LogPosition }> {
  let handle: FileHandle;
  try {
    handle = await open(join(dir, file), 'r');
  } catch (error) {
    // Pruned between listing and opening: it has nothing left to give.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    const stats = await handle.stat();
    let pos = Math.min(end ?? stats.size, stats.size);
    let skipPartial = end === undefined;
    let tail: Buffer = Buffer.alloc(0);
    let tailStart = pos;
    let oversized = false;
    while (pos > 0) {
      const length = Math.min(CHUNK_BYTES, pos);
      const chunk = Buffer.alloc(length);
      const { bytesRead } = await handle.read(chunk, 0, length, pos - length);
      if (bytesRead !== length) return; // truncated under us: stop rather than guess
      pos -= length;
      const buffer = tail.length > 0 ? Buffer.concat([chunk, tail]) : chunk;
      let lineEnd = buffer.length;
      for (let i = chunk.length - 1; i >= 0; i--) {
        if (buffer[i] !== NEWLINE) continue;
        if (skipPartial) {
          skipPartial = false;
        } else if (i + 1 < lineEnd && !oversized) {
          yield { text: buffer.toString('utf8', i + 1, lineEnd), position: { file, offset: pos + i + 1 } };
        }
        oversized = false;
        lineEnd = i;
      }
      tail = buffer.subarray(0, lineEnd);
      tailStart = pos;
      if (tail.length > MAX_LINE_BYTES) {
        oversized = true;
        tail = Buffer.alloc(0);
      }
    }
    // skipPartial still set: not one finished line in the whole file.
    if (tail.length > 0 && !oversized && !skipPartial)
      yield { text: tail.toString('utf8'), position: { file, offset: tailStart } };
  } finally {
    await handle.close();
  }
}

/** Every line of the prefix's files strictly before `before` (default: everything), newest first. */
export async function* readLinesNewestFirst(
  dir: string,
  prefix: string,
  before?: LogPosition
): AsyncGenerator<{ text: string; position: LogPosition }> {
  for (const file of await listLogFiles(dir, prefix)) {
    if (before && file > before.file) continue;
    yield* linesBackward(dir, file, before && file === before.file ? before.offset : undefined);
  }
}

export interface ScanOptions<T> {
  dir: string;
  prefix: string;
  before?: LogPosition;
  limit: number;
  /** Cheap text test before JSON.parse: false means the line cannot match. */
  prefilter?: (text: string) => boolean;
  /** Turns a parsed line into an item; undefined skips a line that is not one. */
  accept: (value: unknown) => T | undefined;
  match: (item: T) => boolean;
  /** True when no older line can match any more (lines are in time order): the scan stops there. */
  exhausted?: (item: T) => boolean;
}

export interface ScanResult<T> {
  items: T[];
  /** Position of the last item taken. */
  last: LogPosition | undefined;
  /** No older line can match: the caller need not look further. */
  done: boolean;
}

/** Streams lines newest first and stops as soon as `limit` items matched. */
export async function scanFiles<T>(options: ScanOptions<T>): Promise<ScanResult<T>> {
  const items: T[] = [];
  let last: LogPosition | undefined;
  if (options.limit <= 0) return { items, last, done: false };
  for await (const { text, position } of readLinesNewestFirst(options.dir, options.prefix, options.before)) {
    if (options.prefilter && !options.prefilter(text)) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      continue;
    }
    const item = options.accept(value);
    if (item === undefined) continue;
    if (options.exhausted?.(item)) return { items, last, done: true };
    if (!options.match(item)) continue;
    items.push(item);
    last = position;
    if (items.length >= options.limit) return { items, last, done: false };
  }
  return { items, last, done: true };
}

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_QUERY_LIMIT;
  return Math.max(1, Math.min(MAX_QUERY_LIMIT, Math.floor(limit)));
}

/** A page's `next`: there may be more only when the page is full and the scan did not run out. */
export function nextCursor(result: ScanResult<unknown>, limit: number): string | null {
  return !result.done && result.items.length >= limit && result.last ? encodeCursor(result.last) : null;
}
