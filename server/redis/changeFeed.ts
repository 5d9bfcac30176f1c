import { randomBytes } from 'node:crypto';
import type { RedisClient } from './redisLink.js';

export const CHANGES_CHANNEL = 'comfygate:changes';
const ACKS_CHANNEL = 'comfygate:acks';

/** One change as published (by redisDocument.ts's script): a header line, then the document's JSON. */
export interface PublishedChange {
  document: string;
  version: number;
  from: string;
  changeId: string;
  text: string;
}

/** The header is `document version from changeId`: none of them holds a space or a newline. */
export function parseChange(message: string): PublishedChange | undefined {
  const newline = message.indexOf('\n');
  if (newline < 0) return undefined;
  const [document, version, from, changeId] = message.slice(0, newline).split(' ');
  const parsedVersion = Number(version);
  if (!document || !from || !changeId || !Number.isSafeInteger(parsedVersion)) return undefined;
  return { document, version: parsedVersion, from, changeId, text: message.slice(newline + 1) };
}

export function newChangeId(): string {
  return randomBytes(8).toString('hex');
}

interface Waiter {
  missing: Set<string>;
  done: () => void;
}

/**
 * The change feed: every gate hears every change to a shared document, adopts it, and answers with an ack naming
 * itself, so the writer can wait until the change is in force on every live replica before its API answers.
 */
export class ChangeFeed {
  readonly #handlers = new Map<string, (change: PublishedChange) => void>();
  readonly #waiters = new Map<string, Waiter>();
  #started = false;

  constructor(
    private readonly commands: RedisClient,
    private readonly subscriber: RedisClient,
    /** This process's replica id; the CLI has one too, but acks nothing (it serves no requests). */
    readonly replicaId: string,
    private readonly acks: boolean
  ) {}

  /** Once: the client resubscribes by itself after a reconnect. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.subscriber.subscribe(CHANGES_CHANNEL, (message) => this.#onChange(message));
    await this.subscriber.subscribe(ACKS_CHANNEL, (message) => this.#onAck(message));
  }

  on(document: string, handler: (change: PublishedChange) => void): void {
    this.#handlers.set(document, handler);
  }

  off(document: string): void {
    this.#handlers.delete(document);
  }

  /**
   * Resolves once every replica in `replicas` acked `changeId`, or after `boundMs`, with the ids that did not.
   * Call it before publishing, so no ack can arrive unheard.
   */
  expectAcks(changeId: string, replicas: ReadonlySet<string>, boundMs: number): Promise<string[]> {
    const missing = new Set(replicas);
    missing.delete(this.replicaId);
    if (missing.size === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(changeId);
        resolve([...missing]);
      };
      const timer = setTimeout(finish, boundMs);
      this.#waiters.set(changeId, { missing, done: finish });
    });
  }

  /** Gives up waiting (the write itself failed). */
  cancel(changeId: string): void {
    this.#waiters.get(changeId)?.done();
  }

  #onChange(message: string): void {
    const change = parseChange(message);
    if (change === undefined) return;
    this.#handlers.get(change.document)?.(change);
    if (this.acks && change.from !== this.replicaId) {
      this.commands.publish(ACKS_CHANNEL, `${change.changeId} ${this.replicaId}`).catch(() => undefined);
    }
  }

  #onAck(message: string): void {
    const [changeId, replica] = message.split(' ');
    if (changeId === undefined || replica === undefined) return;
    const waiter = this.#waiters.get(changeId);
    if (waiter === undefined) return;
    waiter.missing.delete(replica);
    if (waiter.missing.size === 0) waiter.done();
  }
}
