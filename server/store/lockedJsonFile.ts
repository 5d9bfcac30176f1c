import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { unwatchFile, watchFile } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import type { z } from 'zod';

export interface LockedJsonFileOptions<T> {
  file: string;
  schema: z.ZodType<T>;
  /** The document while the file does not exist yet; it is written on the first mutation. */
  defaults: () => T;
}

export interface LockedJsonFileEvents<T> {
  /** The document changed, by this process or another one. Not emitted for rewrites with equal content. */
  change: [T];
  /**
   * Another process (or a person) left the file unreadable or invalid; the last good document stays in use.
   * Not named 'error' on purpose: an unheard 'error' event would crash the gate over a hand-edited file.
   */
  invalid: [Error];
}

/** The file on disk cannot be used; it is never overwritten, because it may hold the operator's only keys. */
export class CorruptJsonFileError extends Error {
  constructor(
    readonly file: string,
    detail: string
  ) {
    super(`${file} is not valid (${detail}). Fix the file or move it away; ComfyGate will not overwrite it.`);
    this.name = 'CorruptJsonFileError';
  }
}

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
/** Another process's change is seen within a second even where fs events are unreliable (network shares, WSL). */
const WATCH_INTERVAL_MS = 250;
const LOCK_WAIT_MS = 5_000;
/** A lock of a crashed process is taken over after this long; live holders refresh it every half of it. */
const LOCK_STALE_MS = 3_000;
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
export class LockedJsonFile<T> {
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
      throw new CorruptJsonFileError(file, `not JSON: ${(error as Error).message}`);
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    if (rawText === null) throw new Error(`the defaults for ${file} do not pass its schema: ${parsed.error.message}`);
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `at ${issue.path.join('.')}: ` : '';
    throw new CorruptJsonFileError(file, where + (issue?.message ?? 'does not match the expected shape'));
  }
  return { snapshot: { value: parsed.data, text: serialize(parsed.data) }, existed: rawText !== null, rawText };
}

async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  // mkdir leaves an existing folder alone, and the keys in it deserve the same privacy as a new one.
  if (!isWindows) await chmod(dir, DIR_MODE);
}

interface HeldLock {
  release(): Promise<void>;
  /** Set when another process took the lock over (we were stalled past LOCK_STALE_MS); writing would race it. */
  compromised: Error | undefined;
}

async function acquireLock(file: string): Promise<HeldLock> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  const held: HeldLock = { release: () => Promise.resolve(), compromised: undefined };
  for (;;) {
    try {
      const release = await lockfile.lock(file, {
        realpath: false,
        stale: LOCK_STALE_MS,
        retries: 0,
        onCompromised: (error: Error) => {
          held.compromised = error;
        },
      });
      // A compromised lock is gone already; releasing it again only reports that.
      held.release = () => release().catch(noop);
      return held;
    } catch (error) {
      if (errnoCode(error) !== 'ELOCKED') throw error;
      if (Date.now() >= deadline) {
        throw new Error(
          `timed out after ${LOCK_WAIT_MS / 1000} s waiting for the lock on ${file}; ` +
            `another ComfyGate process holds it (remove ${file}.lock if no such process is running)`
        );
      }
      // Jitter keeps contending processes from retrying in lockstep.
      await sleep(5 + Math.random() * 25);
    }
  }
}

async function writeAtomically(file: string, text: string, lock: HeldLock): Promise<void> {
  const temp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    const handle = await open(temp, 'wx', FILE_MODE);
    try {
      // The umask can only narrow the mode given to open(); this pins it to exactly 0600.
      if (!isWindows) await handle.chmod(FILE_MODE);
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (lock.compromised) throw new Error(`lost the lock on ${file}: ${lock.compromised.message}`);
    await renameOver(temp, file);
  } catch (error) {
    await unlink(temp).catch(noop);
    throw error;
  }
  await syncDir(dirname(file));
}

async function renameOver(from: string, to: string): Promise<void> {
  // Windows refuses to replace a file another process is reading at that instant; the reader is done within ms.
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (error) {
      const code = errnoCode(error);
      if (!isWindows || attempt >= 20 || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) throw error;
      await sleep(25);
    }
  }
}

/** Makes the rename itself durable; without it a power cut can bring back the old file. */
async function syncDir(dir: string): Promise<void> {
  if (isWindows) return;
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems cannot fsync a folder; the data itself is already synced.
  }
}

function deepFreeze<V>(value: V): V {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function errnoCode(error: unknown): string | undefined {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
