import { EventEmitter } from 'node:events';
import { createClient } from '@redis/client';
import type { Logger } from '../appLog/logger.js';
import { GateError } from '../errors.js';

export type RedisClient = ReturnType<typeof createClient>;

export interface RedisLinkEvents {
  /** Both connections are ready (at first, and after every outage). */
  up: [];
  /** The command connection was lost; commands fail at once until `up`. */
  down: [];
}

/** Waits between reconnects: 100 ms doubling to this ceiling, so a restarted Redis is found again within seconds. */
const MAX_BACKOFF_MS = 2_000;
const CONNECT_TIMEOUT_MS = 2_000;

/** `redis://host:port` without a password, for messages and logs. */
export function redisLabel(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return 'redis';
  }
}

/**
 * The two connections a gate keeps to Redis: one for commands and one subscribed to the change feed. They reconnect by
 * themselves with backoff; while Redis is away commands fail at once (no offline queue, so nothing hangs), and the
 * outage is logged once when it starts and once when it ends.
 */
export class RedisLink {
  readonly events = new EventEmitter<RedisLinkEvents>();
  readonly commands: RedisClient;
  readonly subscriber: RedisClient;
  readonly label: string;
  /** Since when (ms) Redis has been unreachable; null while it answers. */
  #offlineSince: number | null;
  #closed = false;

  constructor(
    url: string,
    private readonly logger: Logger
  ) {
    this.label = redisLabel(url);
    const options = {
      url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), MAX_BACKOFF_MS),
      },
    };
    this.commands = createClient(options);
    this.subscriber = createClient(options);
    this.#offlineSince = Date.now();
    for (const client of [this.commands, this.subscriber]) {
      // Without a listener an 'error' event would crash the process; the outage itself is logged in #down().
      client.on('error', () => this.#down());
      client.on('ready', () => this.#maybeUp());
    }
  }

  get online(): boolean {
    return this.#offlineSince === null;
  }

  get offlineSince(): number | null {
    return this.#offlineSince;
  }

  /** Starts connecting; resolves once connected or after `waitMs`, whichever comes first (the links keep trying). */
  async connect(waitMs: number): Promise<boolean> {
    const connected = Promise.all([this.commands.connect(), this.subscriber.connect()]).then(
      () => true,
      () => false
    );
    const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), waitMs).unref());
    return Promise.race([connected, timer]);
  }

  /** The refusal for a change asked for while Redis is away. */
  unavailable(): GateError {
    return new GateError(
      'shared_state_unavailable',
      `The shared state (Redis at ${this.label}) does not answer, so no change can be saved now; ` +
        'try again once it is back (requests keep working from the last known keys).'
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      [this.commands, this.subscriber].map((client) => (client.isOpen ? client.close() : Promise.resolve()))
    ).catch(() => undefined);
  }

  #down(): void {
    if (this.#closed || this.#offlineSince !== null) return;
    this.#offlineSince = Date.now();
    this.logger.warn({ redis: this.label }, `Redis at ${this.label} is unreachable; reconnecting`);
    this.events.emit('down');
  }

  #maybeUp(): void {
    if (this.#closed || !this.commands.isReady || !this.subscriber.isReady || this.#offlineSince === null) return;
    const seconds = Math.round((Date.now() - this.#offlineSince) / 1000);
    this.#offlineSince = null;
    this.logger.info({ redis: this.label, offlineSeconds: seconds }, `Redis at ${this.label} is reachable`);
    this.events.emit('up');
  }
}
