import type { QueueSnapshot } from './queueSnapshot.js';

/**
 * Tags at the same start tag differ by this much, so ties run in arrival order: ComfyUI orders equal
 * numbers by prompt_id, which is random. Small next to any cost / weight (weights are at most 1000).
 */
export const TIE_STEP = 1e-6;

/**
 * With weighting by GPU time, every this many GPU seconds a subject used today add the cost of one
 * more prompt to each of its new prompts: after 10 minutes of GPU a prompt counts twice.
 */
export const GPU_SECONDS_PER_EXTRA_PROMPT = 600;

/**
 * Where virtual time starts. ComfyUI gives `front` prompts minus its counter, and its counter stays
 * near 0 while the gate numbers prompts, so fair numbers start above every queue jump.
 */
export const FIRST_TAG = 1;

/** How stale the picture of ComfyUI's queue may get before the next prompt refreshes it (in the background). */
const SYNC_AFTER_MS = 1_000;

/** Start-time fair queueing: a subject's next prompt starts at the later of now (virtual) and its last finish tag. */
export function startTag(virtualTime: number, lastFinish: number | undefined): number {
  return lastFinish === undefined ? virtualTime : Math.max(virtualTime, lastFinish);
}

/** A prompt holds the queue for cost / weight of virtual time: a weight-2 key's prompts are half as far apart. */
export function finishTag(start: number, cost: number, weight: number): number {
  return start + cost / weight;
}

/** One prompt costs 1; weighting by GPU time adds one per GPU_SECONDS_PER_EXTRA_PROMPT used today. */
export function promptCost(gpuSecondsToday: number, byGpuTime: boolean): number {
  return byGpuTime ? 1 + Math.max(0, gpuSecondsToday) / GPU_SECONDS_PER_EXTRA_PROMPT : 1;
}

/** The place a prompt was given before ComfyUI answered: kept on 200, given back otherwise. */
export interface FairTicket {
  readonly subject: string;
  readonly start: number;
  /** What the prompt is sent to ComfyUI with as its `number`. */
  readonly number: number;
  readonly finish: number;
  /** The subject's finish tag before this prompt, restored when ComfyUI refuses it. */
  readonly previousFinish: number | undefined;
}

interface Entry {
  subject: string;
  start: number;
  /** Which picture of the queue it was known by: a refresh asked for before it cannot have seen it. */
  seenFrom: number;
}

export interface FairQueueDeps {
  /** ComfyUI's queue now; undefined when it did not answer. */
  readQueue: () => Promise<QueueSnapshot | undefined>;
  now?: () => number;
}

/**
 * The fair order's state: the start tags of the prompts ComfyUI accepted and still runs or holds,
 * each subject's last finish tag, and the virtual time (the lowest start tag still in the queue,
 * which is the running prompt's). ComfyUI's own queue is the truth: the state is rebuilt from it when
 * the gate starts and refreshed whenever it may be stale, so a restart or a missed message loses nothing.
 */
export class FairQueue {
  readonly #entries = new Map<string, Entry>();
  /**
   * The entries by start tag, lowest first (a binary heap), so the virtual time is found without walking the
   * whole queue on every prompt: a script may hold thousands. An entry that finished stays in the heap until it
   * reaches the top, where `virtualTime` drops it.
   */
  readonly #byStart = new StartHeap();
  readonly #finish = new Map<string, number>();
  /** After a rebuild, the latest start tag of a subject whose finish tag was not known (its weight was). */
  readonly #rebuiltStart = new Map<string, number>();
  /** Per start tag, the highest number given at it. */
  readonly #ties = new Map<number, number>();
  readonly #tickets = new WeakMap<object, FairTicket>();
  readonly #readQueue: () => Promise<QueueSnapshot | undefined>;
  readonly #now: () => number;
  #virtual = FIRST_TAG;
  #syncs = 0;
  #syncedAt: number | undefined = undefined;
  #syncing: Promise<void> | undefined = undefined;

  constructor({ readQueue, now = Date.now }: FairQueueDeps) {
    this.#readQueue = readQueue;
    this.#now = now;
  }

  /** The virtual time, moved on to the start tag of what ComfyUI runs now (or would run next). */
  virtualTime(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (;;) {
      const top = this.#byStart.peek();
      if (top === undefined) break;
      if (this.#entries.get(top.id) === top.entry) {
        lowest = top.entry.start;
        break;
      }
      this.#byStart.pop();
    }
    if (lowest !== Number.POSITIVE_INFINITY && lowest > this.#virtual) {
      this.#virtual = lowest;
      for (const tag of this.#ties.keys()) if (tag < lowest) this.#ties.delete(tag);
    }
    return this.#virtual;
  }

  /** Prompts of the fair order ComfyUI still holds. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Before a prompt is given its place: the first time, the state is rebuilt from ComfyUI's queue
   * (awaited); later, a stale picture is refreshed in the background and the prompt goes on with it.
   */
  async ready(): Promise<void> {
    if (this.#syncedAt === undefined) return this.sync();
    if (this.#entries.size > 0 && this.#now() - this.#syncedAt >= SYNC_AFTER_MS) void this.sync();
  }

  /** Reads ComfyUI's queue and drops what finished, adds what the gate did not know (after a restart). */
  sync(): Promise<void> {
    this.#syncing ??= this.#syncOnce().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  /** The place of a subject's new prompt; its finish tag counts at once, so prompts sent together spread out. */
  reserve(subject: string, weight: number, cost: number): FairTicket {
    const virtual = this.virtualTime();
    const previousFinish = this.#finish.get(subject);
    const rebuilt = this.#rebuiltStart.get(subject);
    const lastFinish = previousFinish ?? (rebuilt === undefined ? undefined : finishTag(rebuilt, cost, weight));
    const start = startTag(virtual, lastFinish);
    const highest = this.#ties.get(start);
    const number = highest === undefined ? start : highest + TIE_STEP;
    this.#ties.set(start, number);
    const finish = finishTag(start, cost, weight);
    this.#finish.set(subject, finish);
    this.#rebuiltStart.delete(subject);
    return { subject, start, number, finish, previousFinish };
  }

  /** Holds a ticket until ComfyUI answers the request it was made for. */
  hold(request: object, ticket: FairTicket): void {
    this.#tickets.set(request, ticket);
  }

  /** ComfyUI's answer to a held request: 200 puts the prompt in the order, anything else gives the place back. */
  settle(request: object, status: number, promptId: string | null): void {
    const ticket = this.#tickets.get(request);
    if (ticket === undefined) return;
    this.#tickets.delete(request);
    if (status === 200 && promptId !== null) this.admit(promptId, ticket);
    else this.cancel(ticket);
  }

  admit(promptId: string, ticket: FairTicket): void {
    this.#enter(promptId, { subject: ticket.subject, start: ticket.start, seenFrom: this.#syncs });
  }

  /** A refused prompt takes nothing of its subject's share, unless a later prompt already built on it. */
  cancel(ticket: FairTicket): void {
    if (this.#finish.get(ticket.subject) !== ticket.finish) return;
    if (ticket.previousFinish === undefined) this.#finish.delete(ticket.subject);
    else this.#finish.set(ticket.subject, ticket.previousFinish);
  }

  /** A prompt ended, or was deleted from the queue. */
  finish(promptId: string): void {
    this.#entries.delete(promptId);
  }

  /** The rebuilt or refreshed state from one reading of ComfyUI's queue. */
  apply(queue: QueueSnapshot, askedAt: number): void {
    const live = new Set<string>();
    for (const list of [queue.running, queue.pending]) {
      for (const item of list) {
        live.add(item.id);
        // Numbers below the first tag are queue jumps (`front`): not part of the fair order.
        const number = item.number;
        if (this.#entries.has(item.id) || item.owner === undefined || number === undefined || number < FIRST_TAG)
          continue;
        this.#enter(item.id, { subject: item.owner, start: number, seenFrom: askedAt });
        const highest = this.#ties.get(number);
        if (highest === undefined || highest < number) this.#ties.set(number, number);
        if (!this.#finish.has(item.owner)) {
          const known = this.#rebuiltStart.get(item.owner);
          if (known === undefined || known < number) this.#rebuiltStart.set(item.owner, number);
        }
      }
    }
    for (const [id, entry] of this.#entries) if (entry.seenFrom < askedAt && !live.has(id)) this.#entries.delete(id);
  }

  #enter(promptId: string, entry: Entry): void {
    this.#entries.set(promptId, entry);
    this.#byStart.push(promptId, entry);
    // Finished entries wait in the heap for the top; a queue that keeps moving without one rising would grow it.
    if (this.#byStart.size > 2 * this.#entries.size + 64) this.#byStart.rebuild(this.#entries);
  }

  async #syncOnce(): Promise<void> {
    const askedAt = ++this.#syncs;
    const queue = await this.#readQueue();
    if (queue === undefined) return;
    this.apply(queue, askedAt);
    this.#syncedAt = this.#now();
  }
}

interface HeapItem {
  id: string;
  entry: Entry;
}

/** A binary min-heap of entries by start tag. */
class StartHeap {
  #items: HeapItem[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): HeapItem | undefined {
    return this.#items[0];
  }

  push(id: string, entry: Entry): void {
    const items = this.#items;
    items.push({ id, entry });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.entry.start <= items[i]!.entry.start) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  pop(): void {
    const items = this.#items;
    const last = items.pop();
    if (last === undefined || items.length === 0) return;
    items[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let lowest = i;
      if (left < items.length && items[left]!.entry.start < items[lowest]!.entry.start) lowest = left;
      if (right < items.length && items[right]!.entry.start < items[lowest]!.entry.start) lowest = right;
      if (lowest === i) return;
      [items[lowest], items[i]] = [items[i]!, items[lowest]!];
      i = lowest;
    }
  }

  /** Only the entries still in the queue. */
  rebuild(entries: ReadonlyMap<string, Entry>): void {
    this.#items = [];
    for (const [id, entry] of entries) this.push(id, entry);
  }
}
