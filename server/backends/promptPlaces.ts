import type { Backend } from './backend.js';

/** Where a prompt is and what the gate still knows to move it. */
export interface PromptPlace {
  backend: Backend;
  clientId: string | null;
  /** `placed`: sent, not yet seen in a queue; `running`: seen running; `done`: gone from the queue. */
  state: 'placed' | 'pending' | 'running' | 'done';
  /** Its backend went down with no other to take it: it waits for the next backend that answers. */
  stranded: boolean;
  /** The body as the backend got it, kept while the prompt waits so it can be queued elsewhere. */
  body: Buffer | undefined;
  /** The node it was executing last, for the error its client gets if it is lost. */
  node: string | null;
  /** node id → class, for the same. */
  classes: Record<string, string>;
}

/** How many prompts the gate remembers; the oldest are forgotten first (and found by asking the backends). */
const MAX_PLACES = 20_000;
/** Output files remembered for `/view`, by type, subfolder and name. */
const MAX_FILES = 20_000;

/** Prompt id → backend, and output file → backend: bounded maps, oldest entries dropped first. */
export class PromptPlaces {
  readonly #places = new Map<string, PromptPlace>();
  readonly #files = new Map<string, Backend>();

  get(promptId: string): PromptPlace | undefined {
    return this.#places.get(promptId);
  }

  set(promptId: string, place: PromptPlace): void {
    this.#places.delete(promptId);
    this.#places.set(promptId, place);
    if (this.#places.size > MAX_PLACES) this.#places.delete(this.#places.keys().next().value as string);
  }

  /** Found by asking the backends (after a restart, or a prompt queued past the gate's memory). */
  remember(promptId: string, backend: Backend): void {
    if (!this.#places.has(promptId)) {
      this.set(promptId, {
        backend,
        clientId: null,
        state: 'done',
        stranded: false,
        body: undefined,
        node: null,
        classes: {},
      });
    }
  }

  on(backend: Backend): Array<[string, PromptPlace]> {
    return [...this.#places].filter(([, place]) => place.backend === backend);
  }

  /** After a health check of `backend`: which of its prompts wait, run, or are done. */
  observeQueue(backend: Backend): void {
    const running = new Set(backend.runningIds);
    const pending = new Set(backend.pendingIds);
    for (const [id, place] of this.#places) {
      if (place.backend !== backend || place.state === 'done') continue;
      if (running.has(id)) {
        place.state = 'running';
        place.body = undefined;
      } else if (pending.has(id)) {
        // A queue read before the prompt started can arrive after its execution_start frame: never back to waiting.
        if (place.state !== 'running') place.state = 'pending';
      } else if (place.state !== 'placed' && !place.stranded) {
        place.state = 'done';
        place.body = undefined;
      }
    }
  }

  /** A history answer (`/history` or `/history/{id}`) of `backend`: its prompts and their output files are there. */
  noteHistory(history: Record<string, unknown>, backend: Backend): void {
    for (const [promptId, entry] of Object.entries(history)) {
      this.remember(promptId, backend);
      if (isRecord(entry) && isRecord(entry['outputs'])) {
        for (const output of Object.values(entry['outputs'])) this.noteFiles(output, backend);
      }
    }
  }

  fileOwner(type: string, subfolder: string, filename: string): Backend | undefined {
    return this.#files.get(fileKey(type, subfolder, filename));
  }

  /** Output files named by an `executed` message's `output` or a history entry's `outputs` node. */
  noteFiles(output: unknown, backend: Backend): void {
    if (!isRecord(output)) return;
    for (const items of Object.values(output)) {
      if (!Array.isArray(items)) continue;
      for (const item of items) {
        if (!isRecord(item) || typeof item['filename'] !== 'string') continue;
        const type = typeof item['type'] === 'string' ? item['type'] : 'output';
        const subfolder = typeof item['subfolder'] === 'string' ? item['subfolder'] : '';
        const key = fileKey(type, subfolder, item['filename']);
        this.#files.delete(key);
        this.#files.set(key, backend);
        if (this.#files.size > MAX_FILES) this.#files.delete(this.#files.keys().next().value as string);
      }
    }
  }
}

function fileKey(type: string, subfolder: string, filename: string): string {
  return `${type}\u0000${subfolder}\u0000${filename}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
