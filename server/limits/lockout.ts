import { EventEmitter } from 'node:events';
import type { RuntimeSettings } from '../settings/settingsSchema.js';

export interface LockoutOptions {
  /** Failures within `windowMs` that lock the address. */
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  /** Addresses tracked at once; past it the least recently failing one is forgotten. */
  maxTracked: number;
}

export const DEFAULT_LOCKOUT_OPTIONS: Readonly<LockoutOptions> = Object.freeze({
  maxFailures: 10,
  windowMs: 5 * 60_000,
  lockoutMs: 15 * 60_000,
  maxTracked: 10_000,
});

/** The lockout options the operator's settings (minutes) ask for. */
export function lockoutOptionsOf(settings: RuntimeSettings['lockout']): Omit<LockoutOptions, 'maxTracked'> {
  return {
    maxFailures: settings.maxFailures,
    windowMs: settings.windowMinutes * 60_000,
    lockoutMs: settings.lockoutMinutes * 60_000,
  };
}

export interface LockoutEvents {
  locked: [ip: string, until: number];
}

export interface FailureOutcome {
  /** Set while the address is locked: epoch ms when it may try again. */
  lockedUntil?: number;
  /** True only for the failure that caused the lock, so the lock is logged once. */
  justLocked: boolean;
}

interface Tracked {
  /** The last `maxFailures` failure times, as a ring: "N failures within the window" is exact, not bucketed. */
  failures: Float64Array;
  next: number;
  count: number;
  /** 0 = not locked. */
  lockedUntil: number;
}

/**
 * Brute-force lockout per client address: `maxFailures` failed credentials within `windowMs` lock the address for
 * `lockoutMs`. Callers check `isLocked` before looking at the credential and refuse locked addresses outright.
 *
 * A successful credential does not clear the failures. Otherwise anyone holding one valid key (a teammate, or an
 * attacker who found a weak one) could interleave it with guesses and never get locked; a legitimate user who
 * mistyped a few times only needs the failures to age out of the window.
 *
 * Memory is bounded by `maxTracked`: entries are kept in least-recently-failed order and the oldest is dropped to
 * make room. Under a flood from more addresses than that, an idle lock can be forgotten early; each of those
 * addresses still gets at most `maxFailures` tries per lock.
 */
export class BruteForceLockout {
  readonly events = new EventEmitter<LockoutEvents>();
  options: Readonly<LockoutOptions>;
  readonly #tracked = new Map<string, Tracked>();

  constructor(options: Partial<LockoutOptions> = {}) {
    this.options = validated({ ...DEFAULT_LOCKOUT_OPTIONS, ...options });
  }

  /** Settings changed: locks in force stay; a new failure threshold starts the counting afresh. */
  configure(options: Partial<LockoutOptions>): void {
    const next = validated({ ...this.options, ...options });
    if (next.maxFailures !== this.options.maxFailures) {
      for (const [ip, entry] of this.#tracked) {
        if (entry.lockedUntil > 0) entry.failures = new Float64Array(next.maxFailures);
        else this.#tracked.delete(ip);
        entry.count = 0;
        entry.next = 0;
      }
    }
    this.options = next;
  }

  get size(): number {
    return this.#tracked.size;
  }

  /** Ms until `ip` may try again, or 0 when it is not locked. */
  isLocked(ip: string, now: number): number {
    const entry = this.#tracked.get(ip);
    if (entry === undefined || entry.lockedUntil === 0) return 0;
    if (now < entry.lockedUntil) return entry.lockedUntil - now;
    // The ring was emptied when the lock started, so an expired lock leaves nothing worth keeping.
    this.#tracked.delete(ip);
    return 0;
  }

  recordFailure(ip: string, now: number): FailureOutcome {
    const { maxFailures, windowMs, lockoutMs } = this.options;
    let entry = this.#tracked.get(ip);
    if (entry !== undefined) {
      if (entry.lockedUntil > now) return { lockedUntil: entry.lockedUntil, justLocked: false };
      // An expired lock: its ring was emptied when it started.
      entry.lockedUntil = 0;
      // Re-inserting keeps the map in least-recently-failed order, which is what eviction relies on.
      this.#tracked.delete(ip);
    } else {
      if (this.#tracked.size >= this.options.maxTracked) this.#evictOldest();
      entry = { failures: new Float64Array(maxFailures), next: 0, count: 0, lockedUntil: 0 };
    }
    this.#tracked.set(ip, entry);

    entry.failures[entry.next] = now;
    entry.next = (entry.next + 1) % maxFailures;
    if (entry.count < maxFailures) entry.count++;
    // With the ring full, `next` points at the oldest of the last maxFailures failures.
    const oldest = entry.failures[entry.next] ?? now;
    if (entry.count < maxFailures || now - oldest >= windowMs) return { justLocked: false };

    entry.lockedUntil = now + lockoutMs;
    entry.count = 0;
    entry.next = 0;
    this.events.emit('locked', ip, entry.lockedUntil);
    return { lockedUntil: entry.lockedUntil, justLocked: true };
  }

  /** Locks `ip` until `until` (ms) because another gate locked it (server/redis/); announces nothing. */
  lockUntil(ip: string, until: number): void {
    const entry = this.#tracked.get(ip);
    if (entry !== undefined) {
      entry.lockedUntil = Math.max(entry.lockedUntil, until);
      entry.count = 0;
      entry.next = 0;
      return;
    }
    if (this.#tracked.size >= this.options.maxTracked) this.#evictOldest();
    this.#tracked.set(ip, {
      failures: new Float64Array(this.options.maxFailures),
      next: 0,
      count: 0,
      lockedUntil: until,
    });
  }

  /** Lifts a lock and forgets the failures, for an operator who locked themselves out. */
  unlock(ip: string): void {
    this.#tracked.delete(ip);
  }

  /** Drops addresses that are neither locked nor have a failure inside the window. O(tracked): call it rarely. */
  prune(now: number): void {
    const { windowMs, maxFailures } = this.options;
    for (const [ip, entry] of this.#tracked) {
      if (entry.lockedUntil > now) continue;
      const newest = entry.failures[(entry.next + maxFailures - 1) % maxFailures] ?? 0;
      if (entry.lockedUntil !== 0 || entry.count === 0 || now - newest >= windowMs) this.#tracked.delete(ip);
    }
  }

  #evictOldest(): void {
    const oldest = this.#tracked.keys().next();
    if (oldest.done !== true) this.#tracked.delete(oldest.value);
  }
}

function validated(options: LockoutOptions): Readonly<LockoutOptions> {
  for (const [name, value] of Object.entries(options)) {
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  }
  return Object.freeze(options);
}
