import { describe, expect, it, vi } from 'vitest';
import { BruteForceLockout, DEFAULT_LOCKOUT_OPTIONS } from '../../server/limits/lockout.js';

const T0 = 1_700_000_000_000;
const SECOND = 1000;
const MINUTE = 60 * SECOND;

function failTimes(lockout: BruteForceLockout, ip: string, times: readonly number[]): boolean[] {
  return times.map((t) => lockout.recordFailure(ip, t).justLocked);
}

describe('BruteForceLockout', () => {
  it('defaults to 10 failures in 5 minutes locking for 15 minutes, 10 000 addresses', () => {
    expect(new BruteForceLockout().options).toEqual({
      maxFailures: 10,
      windowMs: 5 * MINUTE,
      lockoutMs: 15 * MINUTE,
      maxTracked: 10_000,
    });
    expect(DEFAULT_LOCKOUT_OPTIONS.maxFailures).toBe(10);
  });

  it('locks on the Nth failure within the window, tells listeners once, and expires after the cool-down', () => {
    const lockout = new BruteForceLockout();
    const locked = vi.fn();
    lockout.events.on('locked', locked);

    for (let i = 0; i < 9; i++) {
      expect(lockout.recordFailure('10.0.0.1', T0 + i * SECOND)).toEqual({ justLocked: false });
      expect(lockout.isLocked('10.0.0.1', T0 + i * SECOND)).toBe(0);
    }
    const at = T0 + 9 * SECOND;
    expect(lockout.recordFailure('10.0.0.1', at)).toEqual({ lockedUntil: at + 15 * MINUTE, justLocked: true });
    expect(locked).toHaveBeenCalledTimes(1);
    expect(locked).toHaveBeenCalledWith('10.0.0.1', at + 15 * MINUTE);

    expect(lockout.isLocked('10.0.0.1', at)).toBe(15 * MINUTE);
    expect(lockout.isLocked('10.0.0.1', at + 15 * MINUTE - 1)).toBe(1);
    expect(lockout.isLocked('10.0.0.1', at + 15 * MINUTE)).toBe(0);
    expect(locked).toHaveBeenCalledTimes(1);
  });

  it('does not extend or re-announce a lock on failures during it', () => {
    const lockout = new BruteForceLockout({ maxFailures: 2 });
    const locked = vi.fn();
    lockout.events.on('locked', locked);
    failTimes(lockout, 'ip', [T0, T0]);
    expect(lockout.recordFailure('ip', T0 + MINUTE)).toEqual({ lockedUntil: T0 + 15 * MINUTE, justLocked: false });
    expect(locked).toHaveBeenCalledTimes(1);
  });

  it.each([
    { name: '10 failures 30 s apart (4.5 min)', spacing: 30 * SECOND, locks: true },
    { name: '10 failures 33 s apart (4 min 57 s)', spacing: 33 * SECOND, locks: true },
    { name: '10 failures 34 s apart (5 min 6 s)', spacing: 34 * SECOND, locks: false },
    { name: '10 failures 1 min apart', spacing: MINUTE, locks: false },
  ])('counts failures inside a sliding window: $name', ({ spacing, locks }) => {
    const lockout = new BruteForceLockout();
    const times = Array.from({ length: 10 }, (_, i) => T0 + i * spacing);
    expect(failTimes(lockout, 'ip', times).at(-1)).toBe(locks);
  });

  it('does not lock a steady pace just under the limit, however long it keeps going', () => {
    const lockout = new BruteForceLockout();
    // Any 10 consecutive failures span 9 * 34 s = 5 min 6 s.
    const times = Array.from({ length: 200 }, (_, i) => T0 + i * 34 * SECOND);
    expect(failTimes(lockout, 'ip', times).some(Boolean)).toBe(false);
  });

  it('leaves other addresses alone', () => {
    const lockout = new BruteForceLockout({ maxFailures: 3 });
    failTimes(lockout, '10.0.0.1', [T0, T0, T0]);
    expect(lockout.isLocked('10.0.0.1', T0)).toBeGreaterThan(0);
    expect(lockout.isLocked('10.0.0.2', T0)).toBe(0);
    expect(failTimes(lockout, '10.0.0.2', [T0, T0])).toEqual([false, false]);
  });

  it('starts afresh after a lock expires: it takes N new failures to lock again', () => {
    const lockout = new BruteForceLockout({ maxFailures: 3, windowMs: 20 * MINUTE, lockoutMs: MINUTE });
    failTimes(lockout, 'ip', [T0, T0, T0]);
    expect(failTimes(lockout, 'ip', [T0 + MINUTE, T0 + MINUTE, T0 + MINUTE])).toEqual([false, false, true]);
  });

  it('unlock lifts a lock and forgets the failures', () => {
    const lockout = new BruteForceLockout({ maxFailures: 2 });
    failTimes(lockout, 'ip', [T0, T0]);
    lockout.unlock('ip');
    expect(lockout.isLocked('ip', T0)).toBe(0);
    expect(lockout.recordFailure('ip', T0).justLocked).toBe(false);
  });

  it('tracks at most maxTracked addresses, forgetting the least recently failing one', () => {
    const lockout = new BruteForceLockout({ maxFailures: 2, maxTracked: 3 });
    failTimes(lockout, 'a', [T0]);
    failTimes(lockout, 'b', [T0 + 1]);
    failTimes(lockout, 'c', [T0 + 2]);
    failTimes(lockout, 'a', [T0 + 3]); // a locks and becomes the most recent
    failTimes(lockout, 'd', [T0 + 4]); // evicts b
    expect(lockout.size).toBe(3);
    expect(lockout.isLocked('a', T0 + 5)).toBeGreaterThan(0);
    expect(failTimes(lockout, 'c', [T0 + 5])).toEqual([true]);
    expect(failTimes(lockout, 'b', [T0 + 6])).toEqual([false]);
    expect(lockout.size).toBe(3);
  });

  it('stays bounded under a flood of distinct addresses', () => {
    const lockout = new BruteForceLockout({ maxTracked: 100 });
    for (let i = 0; i < 10_000; i++) lockout.recordFailure(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, T0 + i);
    expect(lockout.size).toBe(100);
  });

  it('prune drops addresses with nothing left in the window and keeps locks', () => {
    const lockout = new BruteForceLockout({ maxFailures: 2 });
    failTimes(lockout, 'stale', [T0]);
    failTimes(lockout, 'locked', [T0, T0]);
    failTimes(lockout, 'fresh', [T0 + 4 * MINUTE]);
    lockout.prune(T0 + 5 * MINUTE);
    expect(lockout.size).toBe(2);
    expect(lockout.isLocked('locked', T0 + 5 * MINUTE)).toBeGreaterThan(0);
    lockout.prune(T0 + 16 * MINUTE);
    expect(lockout.size).toBe(0);
  });

  it('lockUntil applies a lock made by another gate, silently, and it ends on time', () => {
    const lockout = new BruteForceLockout();
    const locked = vi.fn();
    lockout.events.on('locked', locked);
    lockout.lockUntil('1.2.3.4', T0 + MINUTE);
    expect(lockout.isLocked('1.2.3.4', T0)).toBe(MINUTE);
    expect(lockout.recordFailure('1.2.3.4', T0).lockedUntil).toBe(T0 + MINUTE);
    expect(lockout.isLocked('1.2.3.4', T0 + MINUTE)).toBe(0);
    expect(locked).not.toHaveBeenCalled();
  });

  it.each([{ maxFailures: 0 }, { windowMs: -1 }, { lockoutMs: 1.5 }, { maxTracked: Number.NaN }])(
    'rejects %o',
    (options) => {
      expect(() => new BruteForceLockout(options)).toThrow(RangeError);
    }
  );
});
