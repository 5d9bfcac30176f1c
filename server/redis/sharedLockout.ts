import { BruteForceLockout, type FailureOutcome, type LockoutOptions } from '../limits/lockout.js';
import type { RedisClient, RedisLink } from './redisLink.js';

const LOCKS_CHANNEL = 'comfygate:locks';

/**
 * Adds one failure of an address to its failures in Redis (a sorted set of times, trimmed to the window); when they
 * reach the limit, locks the address there and announces the lock to every gate. Returns 1 for the failure that
 * locked it, else 0.
 */
const FAILURE_SCRIPT = `
local now, windowMs, maxFailures, lockoutMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - windowMs)
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], windowMs)
if redis.call('ZCARD', KEYS[1]) < maxFailures then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], now + lockoutMs, 'PX', lockoutMs)
redis.call('PUBLISH', ARGV[6], ARGV[7] .. ' ' .. (now + lockoutMs))
return 1
`;

/**
 * The brute-force lockout, one across the gates: wrong keys from an address count together wherever they arrive, and
 * a lock made anywhere is in force everywhere. The check stays in memory (one map lookup); each failure (rare, and
 * never on the path of a valid key) adds one script call. While Redis is away each gate counts on its own.
 */
export class SharedLockout extends BruteForceLockout {
  #sequence = 0;

  constructor(
    private readonly link: RedisLink,
    options: Partial<LockoutOptions>
  ) {
    super(options);
  }

  /** Hears the locks made by every gate; the client resubscribes by itself after a reconnect. */
  async listen(subscriber: RedisClient): Promise<void> {
    await subscriber.subscribe(LOCKS_CHANNEL, (message) => {
      const space = message.lastIndexOf(' ');
      const until = Number(message.slice(space + 1));
      if (space > 0 && Number.isFinite(until)) this.lockUntil(message.slice(0, space), until);
    });
  }

  override recordFailure(ip: string, now: number): FailureOutcome {
    const outcome = super.recordFailure(ip, now);
    // Every failure up to the one that locks here goes to Redis, so Redis never counts fewer than this gate.
    if ((outcome.lockedUntil === undefined || outcome.justLocked) && this.link.online) {
      const { windowMs, maxFailures, lockoutMs } = this.options;
      this.link.commands
        .eval(FAILURE_SCRIPT, {
          keys: [`comfygate:failures:${ip}`, `comfygate:locked:${ip}`],
          arguments: [
            String(now),
            String(windowMs),
            String(maxFailures),
            String(lockoutMs),
            `${now}-${process.pid}-${this.#sequence++}`,
            LOCKS_CHANNEL,
            ip,
          ],
        })
        .then((locked) => {
          // Announced (audit, metrics, notice) by the gate whose failure made the lock, once.
          if (locked === 1 && !outcome.justLocked) this.events.emit('locked', ip, now + lockoutMs);
        })
        .catch(() => undefined);
    }
    return outcome;
  }
}
