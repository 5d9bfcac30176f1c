import { EventEmitter } from 'node:events';
import type { z } from 'zod';
import type { Logger } from '../appLog/logger.js';
import type { SharedDocument, SharedDocumentEvents } from '../store/sharedDocument.js';
import { CHANGES_CHANNEL, newChangeId, type ChangeFeed, type PublishedChange } from './changeFeed.js';
import type { RedisLink } from './redisLink.js';

/** How long a write waits for the other live replicas to adopt it before its API answers anyway. */
export const ACK_BOUND_MS = 2_000;
/** Concurrent writers retry a lost compare-and-set this often before giving up. */
const MAX_ATTEMPTS = 20;

/**
 * Writes the document if nobody wrote since it was read (KEYS[1]'s `v` is still ARGV[1], '' for "absent"), and
 * publishes it in the same step, so every change that lands is announced, in order.
 */
const WRITE_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'v')
if (current or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'text', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' ' .. ARGV[2] .. ' ' .. ARGV[6] .. ' ' .. ARGV[7] .. '\\n' .. ARGV[3])
return 1
`;

export interface RedisDocumentOptions<T> {
  name: string;
  link: RedisLink;
  feed: ChangeFeed;
  /** The embedded file: the first content when Redis holds none, then a copy of every adopted version. */
  local: SharedDocument<T>;
  schema: z.ZodType<T>;
  /** Ids of the replicas a change waits for (the live ones). */
  peers: () => Promise<ReadonlySet<string>>;
  logger: Logger;
}

/**
 * A document kept in Redis (hash `comfygate:doc:<name>`: version `v` and JSON `text`) and held in memory by every
 * gate: reads never touch Redis. A write is a compare-and-set plus publish; it resolves once the other live replicas
 * acked it, or after ACK_BOUND_MS. While Redis is away writes are refused (`shared_state_unavailable`) and the last
 * known document stays in force.
 */
export class RedisDocument<T> implements SharedDocument<T> {
  readonly events = new EventEmitter<SharedDocumentEvents<T>>();
  readonly #key: string;
  #value: T;
  #text: string;
  /** 0 until a version from Redis was adopted. */
  #version = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #mirror: Promise<unknown> = Promise.resolve();

  private constructor(private readonly options: RedisDocumentOptions<T>) {
    this.#key = `comfygate:doc:${options.name}`;
    this.#value = deepFreeze(structuredClone(options.local.data));
    this.#text = JSON.stringify(this.#value);
    options.feed.on(options.name, (change) => this.#onChange(change));
  }

  /** Adopts Redis's document if it answers (see #sync()); otherwise starts from the local copy, the last known one. */
  static async open<T>(options: RedisDocumentOptions<T>): Promise<RedisDocument<T>> {
    const document = new RedisDocument(options);
    if (options.link.online) await document.reload().catch(() => undefined);
    return document;
  }

  get data(): T {
    return this.#value;
  }

  get version(): number {
    return this.#version;
  }

  update<R>(mutate: (draft: T) => R): Promise<R> {
    return this.#enqueue(() => this.#write(mutate));
  }

  /** Adopts what Redis holds, even an older version (a Redis restored from a backup): after an outage, or asked. */
  reload(): Promise<void> {
    return this.#enqueue(() => this.#sync(true));
  }

  /** The periodic check: adopts only a newer version, so a reply that crossed a newer change cannot undo it. */
  check(): Promise<void> {
    return this.#enqueue(() => this.#sync(false));
  }

  /**
   * Converges with Redis: adopts its version when it differs; when Redis holds nothing (a new Redis, or one restarted
   * without persistence), puts its last known document back (the first process to do so wins; the others adopt).
   */
  async #sync(force: boolean): Promise<void> {
    const { commands } = this.options.link;
    const version = await commands.hGet(this.#key, 'v');
    if (version !== null && Number(version) === this.#version) return;
    if (version === null) {
      const seeded = this.#version === 0 ? 1 : this.#version;
      const written = await this.#compareAndSet('', seeded, this.#text, newChangeId());
      if (written) {
        this.#version = seeded;
        this.options.logger.info(
          { document: this.options.name, version: seeded },
          'put the local copy into Redis, which held none'
        );
        return;
      }
    }
    const [v = null, text = null] = await commands.hmGet(this.#key, ['v', 'text']);
    if (v !== null && text !== null && (force || Number(v) > this.#version)) this.#adopt(Number(v), text);
  }

  async close(): Promise<void> {
    this.options.feed.off(this.options.name);
    await this.#tail.catch(() => undefined);
    await this.#mirror;
    await this.options.local.close();
  }

  async #write<R>(mutate: (draft: T) => R): Promise<R> {
    const { link, feed, schema, logger, name } = this.options;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!link.online) throw link.unavailable();
      const [v = null, text = null] = await link.commands.hmGet(this.#key, ['v', 'text']).catch(() => {
        throw link.unavailable();
      });
      const base = v !== null && text !== null ? (JSON.parse(text) as T) : structuredClone(this.#value);
      const draft = base;
      const result = mutate(draft);
      const parsed = schema.safeParse(draft);
      if (!parsed.success) throw new Error(`refusing to write an invalid ${name} document: ${parsed.error.message}`);
      const nextText = JSON.stringify(parsed.data);
      const nextVersion = (v === null ? this.#version : Number(v)) + 1;
      const changeId = newChangeId();
      const peers = await this.options.peers().catch(() => new Set<string>());
      const acked = feed.expectAcks(changeId, peers, ACK_BOUND_MS);
      const written = await this.#compareAndSet(v ?? '', nextVersion, nextText, changeId).catch(() => {
        feed.cancel(changeId);
        throw link.unavailable();
      });
      if (!written) {
        feed.cancel(changeId);
        continue;
      }
      this.#adopt(nextVersion, nextText);
      const missing = await acked;
      if (missing.length > 0) {
        logger.warn(
          { document: name, replicas: missing },
          `${missing.length} gate replica(s) did not confirm a change within ${ACK_BOUND_MS} ms; they adopt it when they hear it or at their next sync`
        );
      }
      return result;
    }
    throw new Error(`could not save the ${name} document: too many concurrent changes`);
  }

  async #compareAndSet(expected: string, version: number, text: string, changeId: string): Promise<boolean> {
    const written = await this.options.link.commands.eval(WRITE_SCRIPT, {
      keys: [this.#key],
      arguments: [
        expected,
        String(version),
        text,
        CHANGES_CHANNEL,
        this.options.name,
        this.options.feed.replicaId,
        changeId,
      ],
    });
    return written === 1;
  }

  #onChange(change: PublishedChange): void {
    // Older than what is in force: a write of this process adopted it already, or a late message.
    if (change.version < this.#version || (change.version === this.#version && change.text === this.#text)) return;
    this.#adopt(change.version, change.text);
  }

  #adopt(version: number, text: string): void {
    this.#version = version;
    if (text === this.#text) return;
    const parsed = this.options.schema.safeParse(safeJson(text));
    if (!parsed.success) {
      this.events.emit(
        'invalid',
        new Error(`Redis holds an invalid ${this.options.name} document; keeping the last good one`)
      );
      return;
    }
    this.#value = deepFreeze(parsed.data);
    this.#text = text;
    this.events.emit('change', this.#value);
    this.#copyToLocal(parsed.data);
  }

  /** The local file follows, so a gate that starts while Redis is away serves the last version it knew. */
  #copyToLocal(value: T): void {
    const copy = structuredClone(value);
    this.#mirror = this.#mirror
      .then(() => this.options.local.update((draft) => Object.assign(draft as object, copy)))
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error }, `could not keep a local copy of ${this.options.name}`)
      );
  }

  #enqueue<R>(task: () => Promise<R>): Promise<R> {
    const run = this.#tail.then(task);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function deepFreeze<V>(value: V): V {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
