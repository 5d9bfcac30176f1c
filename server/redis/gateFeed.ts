import type { RedisLink } from './redisLink.js';

const CHANNEL = 'comfygate:events';
/** Messages kept while Redis is away, oldest dropped first: what a long outage loses is said in the README. */
const MAX_BUFFERED = 10_000;
/** A Redis that accepts connections but does not answer must not hold a prompt: it is buffered instead. */
const ANSWER_BOUND_MS = 1_000;

/** The commands a message may store with, queued in its MULTI. */
export interface RedisMulti {
  zAdd(key: string, member: { score: number; value: string }): unknown;
  zRemRangeByRank(key: string, start: number, stop: number): unknown;
  zRem(key: string, member: string): unknown;
}

interface Pending {
  message: string;
  persist: ((multi: RedisMulti) => void) | undefined;
}

/**
 * The gates' event channel for what each of them learns and the others adopt (owners, queued prompts, GPU time): a
 * message is `kind from rest`, published in one MULTI with what it stores in Redis for gates that start later.
 * While Redis is away messages are kept and sent when it is back, then the listeners of `onUp` reload.
 */
export class GateFeed {
  readonly #handlers = new Map<string, (rest: string) => void>();
  readonly #buffered: Pending[] = [];
  readonly #reloads: Array<() => Promise<void>> = [];

  constructor(
    private readonly link: RedisLink,
    private readonly replicaId: string
  ) {
    const listen = (): void =>
      void link.subscriber.subscribe(CHANNEL, (message) => this.#onMessage(message)).catch(() => undefined);
    if (link.subscriber.isReady) listen();
    else link.subscriber.once('ready', listen);
    link.events.on('up', () => void this.#replay());
  }

  /** Handles another gate's messages of `kind` (one letter); `rest` is what follows the sender's id. */
  on(kind: string, handler: (rest: string) => void): void {
    this.#handlers.set(kind, handler);
  }

  /** Runs after an outage, once the buffered messages went out: the listener reads what Redis holds again. */
  onUp(reload: () => Promise<void>): void {
    this.#reloads.push(reload);
  }

  /** Stores and announces; resolves when done, or at once buffered when Redis does not answer (never rejects). */
  send(kind: string, rest: string, persist?: (multi: RedisMulti) => void): Promise<void> {
    return this.#send({ message: `${kind} ${this.replicaId} ${rest}`, persist });
  }

  #send(pending: Pending): Promise<void> {
    if (!this.link.online) {
      this.#keep(pending);
      return Promise.resolve();
    }
    const multi = this.link.commands.multi();
    pending.persist?.(multi);
    multi.publish(CHANNEL, pending.message);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Redis did not answer in time')), ANSWER_BOUND_MS);
    });
    return Promise.race([multi.exec(), late])
      .then(
        () => undefined,
        () => this.#keep(pending)
      )
      .finally(() => clearTimeout(timer));
  }

  #keep(pending: Pending): void {
    this.#buffered.push(pending);
    if (this.#buffered.length > MAX_BUFFERED) this.#buffered.shift();
  }

  async #replay(): Promise<void> {
    const pending = this.#buffered.splice(0);
    for (const entry of pending) await this.#send(entry);
    for (const reload of this.#reloads) await reload().catch(() => undefined);
  }

  #onMessage(message: string): void {
    const kindEnd = message.indexOf(' ');
    const fromEnd = message.indexOf(' ', kindEnd + 1);
    if (kindEnd < 0 || fromEnd < 0 || message.slice(kindEnd + 1, fromEnd) === this.replicaId) return;
    this.#handlers.get(message.slice(0, kindEnd))?.(message.slice(fromEnd + 1));
  }
}

/** `subject rest` (a subject, a key id or `anon:<ip>`, holds no space; the rest may). */
export function subjectAndRest(text: string): [string, string] | undefined {
  const space = text.indexOf(' ');
  return space > 0 && space < text.length - 1 ? [text.slice(0, space), text.slice(space + 1)] : undefined;
}
