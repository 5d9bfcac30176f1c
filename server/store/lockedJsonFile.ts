import { EventEmitter } from 'node:events';
import { unwatchFile, watchFile } from 'node:fs';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { z } from 'zod';
import { GateError } from '../errors.js';
import { writeAtomically } from './atomicWrite.js';
import { keepCorruptCopy } from './corruptCopy.js';
import { acquireLock, errnoCode } from './fileLock.js';
import type { SharedDocument, SharedDocumentEvents } from './sharedDocument.js';

export interface LockedJsonFileOptions<T> {
  file: string;
  schema: z.ZodType<T>;
  /** The document while the file does not exist yet; it is written on the first mutation. */
  defaults: () => T;
}

export type LockedJsonFileEvents<T> = SharedDocumentEvents<T>;

/** The file on disk cannot be used; it is never overwritten, because it may hold the operator's only keys. */
export class CorruptJsonFileError extends GateError {
  constructor(
    readonly file: string,
    detail: string,
    /** The name of the copy kept next to the file, if one could be made. */
    readonly copy?: string
  ) {
    super(
      'data_file_corrupt',
      `${file} is not valid (${oneLine(detail)}). ComfyGate will not overwrite it` +
        (copy === undefined ? '' : `; a copy is kept next to it as ${copy}`) +
        '. Fix the file (a running gate picks the fix up within a second), ' +
        'or move it away to start with a new, empty one.'
    );
    this.name = 'CorruptJsonFileError';
  }
}

/** Parser messages quote the file, newlines and all; an error message is one line. */
const MAX_DETAIL_CHARS = 160;
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_DETAIL_CHARS ? `${flat.slice(0, MAX_DETAIL_CHARS - 1)}…` : flat;
}

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
/** Another process's change is seen within a second even where fs events are unreliable (network shares, WSL). */
const WATCH_INTERVAL_MS = 250;
const isWindows = process.platform === 'win32';

interface Snapshot<T> {
  value: T;
  /** Canonical serialization, to tell real changes from rewrites. */
  text: string;
}

/**
 * One JSON document shared by every ComfyGate process on this machine (the app and the CLI): mutations re-read the
 * file under an inter-process lock and replace it atomically, and changes made elsewhere are picked up by polling.
 */
export class LockedJsonFile<T> implements SharedDocument<T> {
  readonly events = new EventEmitter<LockedJsonFileEvents<T>>();
  readonly file: string;
  private readonly options: LockedJsonFileOptions<T>;
  private snapshot: Snapshot<T>;
  /** Mutations and reloads of this process run one at a time, so a reload never overtakes a write. */
  private tail: Promise<unknown> = Promise.resolve();
  private reloadQueued = false;
  private closed = false;
  // Called only when the file's stats changed (mtime, size, inode: an atomic replace always changes the inode).
  private readonly onStat = (): void => this.scheduleReload();

  private constructor(options: LockedJsonFileOptions<T>, snapshot: Snapshot<T>) {
    this.file = options.file;
    this.options = options;
    this.snapshot = { value: deepFreeze(snapshot.value), text: snapshot.text };
    watchFile(this.file, { interval: WATCH_INTERVAL_MS, persistent: false }, this.onStat);
    // The watcher's baseline is taken now; a write that landed since open() read the file would go unnoticed.
    this.scheduleReload();
  }

  static async open<T>(options: LockedJsonFileOptions<T>): Promise<LockedJsonFile<T>> {
    await ensurePrivateDir(dirname(options.file));
    const loaded = await readDocument(options);
    if (loaded.existed && !isWindows) await chmod(options.file, FILE_MODE);
    return new LockedJsonFile(options, loaded.snapshot);
  }

  /** The latest known document. Frozen: change it through update(). */
  get data(): T {
    return this.snapshot.value;
  }

  /**
   * Applies `mutate` to the document as it is on disk now and writes the result before resolving. If `mutate` throws,
   * nothing is written and the promise rejects with that error.
   */
  update<R>(mutate: (draft: T) => R): Promise<R> {
    return this.enqueue(async () => {
      if (this.closed) throw new Error(`${this.file} is closed`);
      const lock = await acquireLock(this.file);
      let result: R;
      let next: Snapshot<T>;
      try {
        const current = await readDocument(this.options);
        const draft = current.snapshot.value;
        result = mutate(draft);
        const parsed = this.options.schema.safeParse(draft);
        if (!parsed.success) {
          throw new Error(`refusing to write an invalid ${basename(this.file)}: ${parsed.error.message}`);
        }
        next = { value: parsed.data, text: serialize(parsed.data) };
        if (!current.existed || current.rawText !== next.text) await writeAtomically(this.file, next.text, lock);
      } finally {
        await lock.release();
      }
      this.adopt(next);
      return result;
    });
  }

  /** Stops watching; waits for mutations already asked for. Later mutations are refused. */
  async close(): Promise<void> {
    if (this.closed) return this.tail.then(noop);
    this.closed = true;
    unwatchFile(this.file, this.onStat);
    await this.tail.then(noop);
  }

  /**
   * Reads the file now and resolves once this process has adopted what is on disk (listeners
   * have run): how a CLI change is in force before the command returns, without waiting for the
   * watcher's next poll.
   */
  reload(): Promise<void> {
    return this.enqueue(() => this.readAndAdopt());
  }

  private scheduleReload(): void {
    if (this.reloadQueued || this.closed) return;
    this.reloadQueued = true;
    void this.enqueue(async () => {
      this.reloadQueued = false;
      await this.readAndAdopt();
    });
  }

  private async readAndAdopt(): Promise<void> {
    if (this.closed) return;
    try {
      this.adopt((await readDocument(this.options)).snapshot);
    } catch (error) {
      this.events.emit('invalid', error instanceof Error ? error : new Error(String(error)));
    }
  }

  private adopt(next: Snapshot<T>): void {
    if (next.text === this.snapshot.text) return;
    this.snapshot = { value: deepFreeze(next.value), text: next.text };
    try {
      this.events.emit('change', this.snapshot.value);
    } catch (error) {
      // The write has landed: a listener's bug must not turn it into a rejected update (and a retried one).
      process.nextTick(() => {
        throw error;
      });
    }
  }

  private enqueue<R>(task: () => Promise<R>): Promise<R> {
    const run = this.tail.then(task);
    this.tail = run.then(noop, noop);
    return run;
  }
}

function noop(): void {}

function serialize(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

interface Loaded<T> {
  snapshot: Snapshot<T>;
  existed: boolean;
  rawText: string | null;
}

async function readDocument<T>(source: LockedJsonFileOptions<T>): Promise<Loaded<T>> {
  const { file, schema } = source;
  let rawText: string | null;
  try {
    rawText = await readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
    rawText = null;
  }
  let raw: unknown;
  if (rawText === null) {
    raw = source.defaults();
  } else {
    try {
      raw = JSON.parse(rawText);
    } catch (error) {
      throw new CorruptJsonFileError(file, `not JSON: ${(error as Error).message}`, await keepCorruptCopy(file));
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    if (rawText === null) throw new Error(`the defaults for ${file} do not pass its schema: ${parsed.error.message}`);
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `at ${issue.path.join('.')}: ` : '';
    const detail = where + (issue?.message ?? 'does not match the expected shape');
    throw new CorruptJsonFileError(file, detail, await keepCorruptCopy(file));
  }
  return { snapshot: { value: parsed.data, text: serialize(parsed.data) }, existed: rawText !== null, rawText };
}

async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  // mkdir leaves an existing folder alone, and the keys in it deserve the same privacy as a new one.
  if (!isWindows) await chmod(dir, DIR_MODE);
}

function deepFreeze<V>(value: V): V {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
