/**
 * The outcome of one look at a window. `resetMs` is the time until one more unit than `remaining` is available (0 when
 * nothing is counted); it can reach two windows, since a hit weighs on the estimate until the next window ends.
 */
export interface WindowDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetMs: number;
}

interface Entry {
  /** Start of the fixed window that `current` counts; windows are aligned to the epoch, so all keys share them. */
  start: number;
  current: number;
  previous: number;
}

/**
 * Sliding-window request counter using the two-bucket approximation: the estimate is the current fixed window's
 * count plus the previous window's count weighted by how much of it still overlaps the sliding window. One small
 * record per key and O(1) work per hit, instead of a timestamp per request.
 *
 * A hit is admitted only if the estimate including it stays within the limit, so the weighted count never exceeds
 * the limit (the looser "estimate before the hit < limit" rule lets two requests through 1 ms apart across a window
 * boundary with a limit of 1). Arithmetic is done in units scaled by the window length so it stays in integers.
 *
 * `hit` and `peek` return the same mutable object on every call: this runs on every proxied request, and the caller
 * reads the fields at once. Copy it if it has to outlive the next call.
 */
export class SlidingWindowCounter {
  readonly #entries = new Map<string, Entry>();
  readonly #decision: WindowDecision = { allowed: true, limit: 0, remaining: 0, resetMs: 0 };

  constructor(readonly windowMs: number) {
    if (!Number.isInteger(windowMs) || windowMs <= 0) throw new RangeError('windowMs must be a positive integer');
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Counts one unit for `id` if the limit allows it; a refused hit counts nothing. */
  hit(id: string, limit: number, now: number): Readonly<WindowDecision> {
    const w = this.windowMs;
    const windowStart = now - (now % w);
    let entry = this.#entries.get(id);
    if (entry === undefined) {
      entry = { start: windowStart, current: 0, previous: 0 };
      this.#entries.set(id, entry);
    } else if (windowStart > entry.start) {
      entry.previous = windowStart - entry.start === w ? entry.current : 0;
      entry.current = 0;
      entry.start = windowStart;
    }
    const elapsed = elapsedIn(entry.start, now);
    const scaled = entry.previous * (w - elapsed) + entry.current * w;
    const allowed = scaled + w <= limit * w;
    if (allowed) entry.current++;
    return this.#decide(allowed, limit, elapsed, entry.previous, entry.current);
  }

  /** What a hit would see, without counting or creating anything. */
  peek(id: string, limit: number, now: number): Readonly<WindowDecision> {
    const w = this.windowMs;
    const windowStart = now - (now % w);
    const entry = this.#entries.get(id);
    let start = windowStart;
    let previous = 0;
    let current = 0;
    if (entry !== undefined) {
      if (windowStart > entry.start) {
        previous = windowStart - entry.start === w ? entry.current : 0;
      } else {
        start = entry.start;
        previous = entry.previous;
        current = entry.current;
      }
    }
    const elapsed = elapsedIn(start, now);
    const allowed = previous * (w - elapsed) + (current + 1) * w <= limit * w;
    return this.#decide(allowed, limit, elapsed, previous, current);
  }

  /**
   * Gives back the unit the last allowed `hit` for `id` counted. Only valid in the same synchronous step as that hit
   * (no window can have rolled over): it lets a caller that checks several windows make the whole check
   * all-or-nothing without peeking every window first.
   */
  undoHit(id: string): void {
    const entry = this.#entries.get(id);
    if (entry !== undefined && entry.current > 0) entry.current--;
  }

  delete(id: string): void {
    this.#entries.delete(id);
  }

  /** Drops keys whose counts have fully expired (idle for two windows). O(keys): call it rarely. */
  prune(now: number): number {
    const cutoff = now - (now % this.windowMs) - 2 * this.windowMs;
    let dropped = 0;
    for (const [id, entry] of this.#entries) {
      if (entry.start <= cutoff) {
        this.#entries.delete(id);
        dropped++;
      }
    }
    return dropped;
  }

  #decide(allowed: boolean, limit: number, elapsed: number, previous: number, current: number): WindowDecision {
    const w = this.windowMs;
    const scaled = previous * (w - elapsed) + current * w;
    // Counts made under a higher limit can exceed a lowered one: remaining bottoms out at 0.
    const remaining = Math.max(0, Math.floor((limit * w - scaled) / w));
    const decision = this.#decision;
    decision.allowed = allowed;
    decision.limit = limit;
    decision.remaining = remaining;
    decision.resetMs = remaining >= limit ? 0 : msUntilFreed(limit - remaining - 1, w, elapsed, previous, current);
    return decision;
  }
}

/**
 * Clocks can step backwards (NTP); a key last seen "in the future" keeps its window and is read as if at its start,
 * rather than losing its counts.
 */
function elapsedIn(start: number, now: number): number {
  return now > start ? now - start : 0;
}

/** Ms until the weighted estimate has decayed to `target` units, with no further hits. */
function msUntilFreed(target: number, w: number, elapsed: number, previous: number, current: number): number {
  if (current <= target) {
    // Within this window: previous * (w - e) <= (target - current) * w. previous > 0, or we would already be there.
    return w - Math.floor(((target - current) * w) / previous) - elapsed;
  }
  // `current` becomes the previous bucket of the next window and decays through it.
  return w - elapsed + w - Math.floor((target * w) / current);
}
