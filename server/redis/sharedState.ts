import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { Logger } from '../appLog/logger.js';
import type { DocumentSharing, SharedDocument } from '../store/sharedDocument.js';
import { ChangeFeed } from './changeFeed.js';
import { RedisDocument } from './redisDocument.js';
import { RedisLink } from './redisLink.js';
import { sharedSessionSecret } from './sessionSecret.js';
import type { LockoutOptions } from '../limits/lockout.js';
import { SharedLockout } from './sharedLockout.js';
import { SharedPromptDays } from './sharedPromptDays.js';
import { SharedRateLimits } from './sharedRateLimits.js';
import type { GpuLedger } from '../gpu/gpuLedger.js';
import { GateFeed } from './gateFeed.js';
import { SharedGpuTime } from './sharedGpuTime.js';
import type { UsageAggregator } from '../usage/usageAggregator.js';
import { SharedUsage } from './sharedUsage.js';
import { SharedOwnership, type OwnershipParts } from './sharedOwnership.js';
import { describeReplica, ReplicaRegistry, type ReplicaReport } from './replicaRegistry.js';
import type { ReplicaStatus } from './replicaStatus.js';

/** How often a gate tells the registry it lives and checks that its documents match Redis's. */
const HEARTBEAT_MS = 3_000;
/** How long a start waits for Redis before serving from the local copies (it keeps connecting meanwhile). */
const START_WAIT_MS = 3_000;

export interface SharedStateOptions {
  url: string;
  logger: Logger;
  /** A gate registers, acks changes and heartbeats; the CLI only reads and writes. */
  role: 'gate' | 'cli';
}

/**
 * Everything several gates share through Redis: the connection, the change feed, the shared documents (keys,
 * sign-outs) and the replica registry. Without `redisUrl` none of this exists and the gate runs on its files alone.
 */
export class SharedState implements DocumentSharing {
  readonly replicaId = `${process.pid.toString(36)}-${randomBytes(4).toString('hex')}`;
  readonly link: RedisLink;
  readonly registry: ReplicaRegistry;
  /** Per-minute and per-hour windows, one across the replicas. */
  readonly rateLimits: SharedRateLimits;
  /** Prompts per day, one count across the replicas. */
  readonly promptDays: SharedPromptDays;
  readonly #feed: ChangeFeed;
  readonly #documents: Array<RedisDocument<unknown>> = [];
  #self: Omit<ReplicaReport, 'beatAt' | 'live'> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #secret: Buffer | undefined;
  #events: GateFeed | undefined;
  #usage: SharedUsage | undefined;

  private constructor(private readonly options: SharedStateOptions) {
    this.link = new RedisLink(options.url, options.logger);
    this.registry = new ReplicaRegistry(this.link.commands);
    this.rateLimits = new SharedRateLimits(this.link);
    this.promptDays = new SharedPromptDays(this.link);
    this.#feed = new ChangeFeed(this.link.commands, this.link.subscriber, this.replicaId, options.role === 'gate');
    this.link.events.on('up', () => void this.#resync());
  }

  /** Connects (waiting a bounded time); an unreachable Redis is logged once, and the links keep trying. */
  static async open(options: SharedStateOptions): Promise<SharedState> {
    const state = new SharedState(options);
    const connected = await state.link.connect(START_WAIT_MS);
    if (connected) await state.#feed.start();
    else {
      state.link.subscriber.on('ready', () => void state.#feed.start().catch(() => undefined));
      options.logger.warn(
        { redis: state.link.label },
        `Redis at ${state.link.label} does not answer; starting from the local copies and reconnecting`
      );
    }
    return state;
  }

  async share<T>(name: string, local: SharedDocument<T>, schema: z.ZodType<T>): Promise<SharedDocument<T>> {
    const document = await RedisDocument.open({
      name,
      link: this.link,
      feed: this.#feed,
      local,
      schema,
      peers: () => this.registry.liveIds(),
      logger: this.options.logger,
    });
    this.#documents.push(document as RedisDocument<unknown>);
    return document;
  }

  /** The secret sessions are signed with, one for all replicas (see sessionSecret.ts). */
  async sessionSecret(local: Buffer): Promise<Buffer> {
    this.#secret = await sharedSessionSecret(this.link, local);
    return this.#secret;
  }

  /** The brute-force lockout, one across the replicas (see sharedLockout.ts). */
  lockout(options: Partial<LockoutOptions>): SharedLockout {
    const lockout = new SharedLockout(this.link, options);
    const listen = (): void => void lockout.listen(this.link.subscriber).catch(() => undefined);
    if (this.link.subscriber.isReady) listen();
    else this.link.subscriber.once('ready', listen);
    return lockout;
  }

  /** The channel of what gates learn and adopt from each other; made for the gate's first use (the CLI has none). */
  get events(): GateFeed {
    this.#events ??= new GateFeed(this.link, this.replicaId);
    return this.#events;
  }

  /** Prompt and output owners and queued prompts, one across the replicas (see sharedOwnership.ts). */
  async ownership(parts: OwnershipParts): Promise<SharedOwnership> {
    const ownership = new SharedOwnership(this.events, this.link.commands, parts);
    if (this.link.online) {
      await ownership
        .load()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not read the owners from Redis'));
    }
    return ownership;
  }

  /** GPU seconds per subject today, one across the replicas (see sharedGpuTime.ts). */
  gpuTime(ledger: GpuLedger): SharedGpuTime {
    return new SharedGpuTime(this.events, ledger);
  }

  /** Usage as the sum of every replica's (see sharedUsage.ts); resolves once the sums were read, if Redis answers. */
  async usage(aggregator: UsageAggregator, retentionDays: () => number): Promise<SharedUsage> {
    this.#usage = new SharedUsage(this.link, retentionDays, this.options.logger);
    aggregator.shareWith(this.#usage);
    await this.#usage.start();
    return this.#usage;
  }

  /** Registers this gate and heartbeats until close(). */
  register(url: string, version: string): void {
    this.#self = describeReplica(this.replicaId, url, version);
    const beat = (): void => {
      if (!this.link.online || this.#self === undefined) return;
      this.registry.beat(this.#self).catch(() => undefined);
      for (const document of this.#documents) document.check().catch(() => undefined);
    };
    beat();
    this.#heartbeat = setInterval(beat, HEARTBEAT_MS).unref();
  }

  /** The URL this gate announces changed (the sharing switch). */
  setUrl(url: string): void {
    if (this.#self !== undefined) this.#self = { ...this.#self, url };
  }

  replicas(): Promise<ReplicaReport[]> {
    return this.registry.list();
  }

  /** The replicas for the dashboard; rejects with the status warning to show while Redis does not answer. */
  async replicaStatuses(): Promise<ReplicaStatus[]> {
    const unlisted = new Error(
      `Redis at ${this.link.label} does not answer: the other gate replicas cannot be listed, and each gate goes on ` +
        'alone (key changes are refused) until it is back.'
    );
    if (!this.link.online) throw unlisted;
    const replicas = await this.registry.list().catch(() => {
      throw unlisted;
    });
    return replicas.map(({ id, url, host, pid, version, startedAt, live }) => ({
      id,
      url,
      host,
      pid,
      version,
      startedAt,
      live,
      self: id === this.replicaId,
    }));
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#usage?.close();
    if (this.#self !== undefined && this.link.online) await this.registry.leave(this.replicaId).catch(() => undefined);
    await this.link.close();
  }

  /** After an outage: documents as Redis holds them (or put back, if Redis lost them), and the heartbeat at once. */
  async #resync(): Promise<void> {
    if (this.#self !== undefined) await this.registry.beat(this.#self).catch(() => undefined);
    if (this.#secret !== undefined) await sharedSessionSecret(this.link, this.#secret);
    for (const document of this.#documents) {
      await document
        .reload()
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error }, 'could not reload shared state from Redis')
        );
    }
  }
}
