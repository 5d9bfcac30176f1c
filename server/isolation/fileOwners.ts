import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { Logger } from '../appLog/logger.js';
import type { Exchange } from '../pipeline/exchange.js';
import { writeAtomically } from '../store/atomicWrite.js';

const FILE_NAME = 'file-owners.json';
/** Changes are written at most this often (and on close), never once per request. */
const WRITE_DELAY_MS = 1_000;
/**
 * The index is written whole, and serialising it blocks the event loop: 200,000 files took over a second here, so
 * at one write a second a busy team would stop the gate. The next write waits this many times as long as the last
 * one took to build (at most 1% of the loop), between WRITE_DELAY_MS and MAX_WRITE_DELAY_MS (what a crash can lose).
 */
const WRITE_COST_FACTOR = 100;
const MAX_WRITE_DELAY_MS = 60_000;
/** About ten thousand prompts' outputs and uploads; the oldest entries go first. */
const MAX_FILES = 200_000;
const MAX_PENDING = 5_000;
/** A prompt whose outputs never showed up (deleted from the queue, ComfyUI restarted) is given up. */
const PENDING_FOR_MS = 24 * 60 * 60_000;

const indexSchema = z.object({
  version: z.literal(1),
  /** File key (see fileKeys.ts) → the subjects who own it (several when an upload matched one byte for byte). */
  files: z.record(z.string(), z.array(z.string()).min(1)),
  /** Prompt id → [subject, queued at ms]: prompts whose outputs the gate has not seen yet. */
  pending: z.record(z.string(), z.tuple([z.string(), z.number()])),
});
type Index = z.infer<typeof indexSchema>;

/** Where this gate's changes go with several gates (redis/sharedOwnership.ts); the others adopt them. */
export interface FileOwnershipFeed {
  recorded(key: string, subject: string): void;
  expected(promptId: string, subject: string, at: number): void;
  settled(promptId: string, subject: string): void;
}

/**
 * Who owns which file of ComfyUI's input, output and temp folders, for team isolation: isolated
 * callers' uploads and their prompts' outputs. ComfyUI keeps no owner of a file and forgets its
 * history when it restarts, so the gate keeps this index in `file-owners.json` (mode 0600) in the
 * data dir: read once at start, written in batches, never read on the request path.
 */
export class FileOwners {
  readonly #file: string;
  readonly #logger: Logger;
  readonly #files: Map<string, string[]>;
  readonly #pending: Map<string, [string, number]>;
  #timer: NodeJS.Timeout | undefined;
  #delayMs = WRITE_DELAY_MS;
  #writing: Promise<void> = Promise.resolve();
  #feed: FileOwnershipFeed | undefined;

  private constructor(file: string, index: Index, logger: Logger) {
    this.#file = file;
    this.#logger = logger;
    this.#files = new Map(Object.entries(index.files));
    this.#pending = new Map(Object.entries(index.pending));
  }

  static async open(dataDir: string, logger: Logger): Promise<FileOwners> {
    const file = join(dataDir, FILE_NAME);
    let index: Index = { version: 1, files: {}, pending: {} };
    try {
      index = indexSchema.parse(JSON.parse(await readFile(file, 'utf8')));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        // Only the gate writes this file; what it cannot read is rebuilt from what teammates do next.
        logger.warn({ err: error, file }, 'could not read the file owner index; starting an empty one');
      }
    }
    return new FileOwners(file, index, logger);
  }

  /** With several gates: this gate's changes are told to the others. */
  shareWith(feed: FileOwnershipFeed): void {
    this.#feed = feed;
  }

  ownersOf(key: string): readonly string[] | undefined {
    return this.#files.get(key);
  }

  /** `subject` owns the file (again); a file owned by nobody yet becomes theirs alone. */
  record(key: string, subject: string): void {
    if (this.adoptFile(key, subject)) this.#feed?.recorded(key, subject);
  }

  /** Another gate's record (or this one's); false when it was known. */
  adoptFile(key: string, subject: string): boolean {
    const owners = this.#files.get(key);
    if (owners?.includes(subject)) return false;
    if (owners) owners.push(subject);
    else {
      this.#files.set(key, [subject]);
      if (this.#files.size > MAX_FILES) this.#files.delete(this.#files.keys().next().value!);
    }
    this.#changed();
    return true;
  }

  /** An isolated caller's prompt was queued: its outputs are theirs once the gate sees them. */
  expectOutputs(promptId: string, subject: string, now: number): void {
    this.adoptPending(promptId, subject, now);
    this.#feed?.expected(promptId, subject, now);
  }

  adoptPending(promptId: string, subject: string, at: number): void {
    if (this.#pending.get(promptId)?.[0] === subject) return;
    this.#pending.set(promptId, [subject, at]);
    if (this.#pending.size > MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value!);
    this.#changed();
  }

  /** ComfyUI's status for a forwarded request: an isolated caller's accepted prompt will have outputs of theirs. */
  onResponse(exchange: Exchange, statusCode: number): void {
    if (statusCode === 200 && exchange.isolatedAs !== null && exchange.promptId !== null) {
      this.expectOutputs(exchange.promptId, exchange.isolatedAs, Date.now());
    }
  }

  /** Whose prompt it is, while its outputs are still to be learned. */
  pendingOwner(promptId: string): string | undefined {
    return this.#pending.get(promptId)?.[0];
  }

  get hasPending(): boolean {
    return this.#pending.size > 0;
  }

  /** The outputs of a prompt were recorded (or never will be). */
  settle(promptId: string): void {
    const owner = this.#pending.get(promptId)?.[0];
    if (owner !== undefined && this.adoptSettled(promptId)) this.#feed?.settled(promptId, owner);
  }

  adoptSettled(promptId: string): boolean {
    if (!this.#pending.delete(promptId)) return false;
    this.#changed();
    return true;
  }

  /** The subject's prompts whose outputs the gate has not seen, newest first. */
  pendingOf(subject: string, now: number, max: number): string[] {
    const ids: string[] = [];
    for (const [id, [owner, queuedAt]] of this.#pending) {
      // Every gate gives up on its own clock: nothing to tell the others.
      if (now - queuedAt > PENDING_FOR_MS) this.adoptSettled(id);
      else if (owner === subject) ids.push(id);
    }
    return ids.reverse().slice(0, max);
  }

  /** Writes what changed and stops the timer. */
  async close(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#write();
    }
    await this.#writing;
  }

  #changed(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#write();
    }, this.#delayMs).unref();
  }

  #write(): void {
    const started = performance.now();
    const index: Index = {
      version: 1,
      files: Object.fromEntries(this.#files),
      pending: Object.fromEntries(this.#pending),
    };
    const text = JSON.stringify(index);
    this.#delayMs = writeDelayAfter(performance.now() - started);
    this.#writing = this.#writing
      .then(async () => {
        await mkdir(join(this.#file, '..'), { recursive: true, mode: 0o700 });
        await writeAtomically(this.#file, text);
      })
      .catch((error: unknown) => this.#logger.warn({ err: error }, 'could not save the file owner index'));
  }
}

/** How long changes wait for the next write after one that took `buildMs` of the event loop to serialise. */
export function writeDelayAfter(buildMs: number): number {
  return Math.min(MAX_WRITE_DELAY_MS, Math.max(WRITE_DELAY_MS, Math.ceil(buildMs * WRITE_COST_FACTOR)));
}
