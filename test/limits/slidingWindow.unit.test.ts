import { describe, expect, it } from 'vitest';
import { SlidingWindowCounter, type WindowDecision } from '../../server/limits/slidingWindow.js';

const W = 60_000;
/** A whole number of minutes and hours since the epoch, so window arithmetic in the tests is readable. */
const T0 = 1_700_002_800_000;

function snapshot(decision: Readonly<WindowDecision>): WindowDecision {
  return { ...decision };
}

/** The weighted estimate the counter admits against, recomputed from the hit log. */
function estimate(hits: readonly number[], now: number): number {
  const start = now - (now % W);
  const current = hits.filter((t) => t >= start && t < start + W).length;
  const previous = hits.filter((t) => t >= start - W && t < start).length;
  return (previous * (W - (now - start))) / W + current;
}

describe('SlidingWindowCounter', () => {
  it('allows up to the limit in a fresh window, then refuses', () => {
    const counter = new SlidingWindowCounter(W);
    const seen = [0, 1, 2, 3].map((i) => snapshot(counter.hit('k', 3, T0 + i * 1000)));
    // resetMs is when one more unit frees: a lone hit weighs on the estimate until the end of the next window.
    expect(seen).toEqual([
      { allowed: true, limit: 3, remaining: 2, resetMs: 2 * W },
      { allowed: true, limit: 3, remaining: 1, resetMs: W - 1000 + W / 2 },
      { allowed: true, limit: 3, remaining: 0, resetMs: W - 2000 + W / 3 },
      { allowed: false, limit: 3, remaining: 0, resetMs: W - 3000 + W / 3 },
    ]);
  });

  it('keeps keys apart', () => {
    const counter = new SlidingWindowCounter(W);
    expect(counter.hit('a', 1, T0).allowed).toBe(true);
    expect(counter.hit('a', 1, T0).allowed).toBe(false);
    expect(counter.hit('b', 1, T0).allowed).toBe(true);
  });

  it('weights the previous window by how much of it the sliding window still covers', () => {
    const counter = new SlidingWindowCounter(W);
    for (let i = 0; i < 10; i++) expect(counter.hit('k', 10, T0 + i).allowed).toBe(true);
    // Half-way through the next window the 10 old hits weigh 5: five more fit.
    const half = T0 + W + W / 2;
    const allowed = Array.from({ length: 7 }, () => counter.hit('k', 10, half).allowed);
    expect(allowed).toEqual([true, true, true, true, true, false, false]);
    // 10 * (W - e) / W + 5 <= 9 once e >= 0.6 W: 6 s after the refusal.
    expect(snapshot(counter.peek('k', 10, half))).toEqual({ allowed: false, limit: 10, remaining: 0, resetMs: 6000 });
    expect(counter.hit('k', 10, half + 5999).allowed).toBe(false);
    expect(counter.hit('k', 10, half + 6000).allowed).toBe(true);
  });

  it.each([
    { name: 'just before resetMs', offset: -1, allowed: false },
    { name: 'at resetMs', offset: 0, allowed: true },
  ])('recovers exactly when resetMs says: $name', ({ offset, allowed }) => {
    const counter = new SlidingWindowCounter(W);
    counter.hit('k', 2, T0);
    counter.hit('k', 2, T0);
    const refused = snapshot(counter.hit('k', 2, T0 + 1000));
    // Both hits move to the previous bucket and must decay to 1: half-way through the next window.
    expect(refused).toEqual({ allowed: false, limit: 2, remaining: 0, resetMs: W - 1000 + W / 2 });
    expect(counter.hit('k', 2, T0 + 1000 + refused.resetMs + offset).allowed).toBe(allowed);
  });

  it('does not count refused hits', () => {
    const counter = new SlidingWindowCounter(W);
    counter.hit('k', 2, T0);
    counter.hit('k', 2, T0);
    for (let i = 0; i < 100; i++) expect(counter.hit('k', 2, T0 + 10 + i).allowed).toBe(false);
    expect(counter.hit('k', 2, T0 + W + W / 2).allowed).toBe(true);
  });

  it('forgets everything after two idle windows', () => {
    const counter = new SlidingWindowCounter(W);
    for (let i = 0; i < 5; i++) counter.hit('k', 5, T0);
    expect(snapshot(counter.peek('k', 5, T0 + 2 * W))).toEqual({ allowed: true, limit: 5, remaining: 5, resetMs: 0 });
    expect(snapshot(counter.hit('k', 5, T0 + 7 * W))).toEqual({
      allowed: true,
      limit: 5,
      remaining: 4,
      resetMs: 2 * W,
    });
  });

  it('keeps counts made under a higher limit when the limit is lowered', () => {
    const counter = new SlidingWindowCounter(W);
    for (let i = 0; i < 8; i++) counter.hit('k', 10, T0);
    const lowered = snapshot(counter.hit('k', 5, T0 + 1000));
    // 8 hits must decay to 4: the next window, 8 * (W - e) / W <= 4 at e = W / 2.
    expect(lowered).toEqual({ allowed: false, limit: 5, remaining: 0, resetMs: W - 1000 + W / 2 });
    expect(counter.hit('k', 20, T0 + 1000).remaining).toBe(11);
  });

  it('peek neither counts nor creates', () => {
    const counter = new SlidingWindowCounter(W);
    expect(snapshot(counter.peek('k', 3, T0))).toEqual({ allowed: true, limit: 3, remaining: 3, resetMs: 0 });
    expect(counter.size).toBe(0);
    counter.hit('k', 3, T0);
    counter.peek('k', 3, T0);
    counter.peek('k', 3, T0 + W);
    expect(counter.hit('k', 3, T0).remaining).toBe(1);
  });

  it('undoHit gives back the unit just counted', () => {
    const counter = new SlidingWindowCounter(W);
    counter.hit('k', 2, T0);
    counter.hit('k', 2, T0);
    counter.undoHit('k');
    expect(counter.peek('k', 2, T0).remaining).toBe(1);
    counter.undoHit('k');
    counter.undoHit('k');
    counter.undoHit('missing');
    expect(counter.peek('k', 2, T0).remaining).toBe(2);
  });

  it('prune drops keys idle for two windows and keeps the rest', () => {
    const counter = new SlidingWindowCounter(W);
    counter.hit('old', 1, T0);
    counter.hit('recent', 1, T0 + W);
    expect(counter.prune(T0 + 2 * W + 1)).toBe(1);
    expect(counter.size).toBe(1);
    expect(counter.peek('recent', 1, T0 + 2 * W + 1).allowed).toBe(false);
    counter.delete('recent');
    expect(counter.size).toBe(0);
  });

  it('survives the clock stepping back without losing counts', () => {
    const counter = new SlidingWindowCounter(W);
    counter.hit('k', 2, T0 + W);
    counter.hit('k', 2, T0 + W);
    expect(counter.hit('k', 2, T0 + W - 5000).allowed).toBe(false);
    expect(counter.peek('k', 2, T0 + W - 5000).resetMs).toBeGreaterThan(0);
  });

  it('rejects a window that is not a positive whole number of ms', () => {
    expect(() => new SlidingWindowCounter(0)).toThrow(RangeError);
    expect(() => new SlidingWindowCounter(1.5)).toThrow(RangeError);
  });

  it('never lets the weighted count exceed the limit, and resetMs is exact (randomized, seeded)', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const counter = new SlidingWindowCounter(W);
    const limit = 7;
    const hits: number[] = [];
    let now = T0 + 12_345;
    for (let step = 0; step < 3000; step++) {
      now += Math.floor(random() * random() * 20_000);
      const decision = snapshot(counter.hit('k', limit, now));
      if (decision.allowed) hits.push(now);
      expect(estimate(hits, now)).toBeLessThanOrEqual(limit + 1e-9);
      expect(decision.allowed).toBe(estimate(decision.allowed ? hits.slice(0, -1) : hits, now) + 1 <= limit + 1e-9);
      expect(decision.remaining).toBe(Math.max(0, Math.floor(limit - estimate(hits, now) + 1e-9)));
      if (decision.resetMs > 0) {
        expect(counter.peek('k', limit, now + decision.resetMs - 1).remaining).toBe(decision.remaining);
        expect(counter.peek('k', limit, now + decision.resetMs).remaining).toBeGreaterThan(decision.remaining);
      } else {
        expect(decision.remaining).toBe(limit);
      }
    }
    expect(hits.length).toBeGreaterThan(100);
  });
});
