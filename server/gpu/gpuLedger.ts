import { nextLocalMidnight } from '../limits/rateLimiter.js';
import { localDate, type UsageAggregator } from '../usage/usageAggregator.js';
import { ANONYMOUS } from '../usage/usageSchema.js';

/** What the fair scheduler and the quota read of GPU time: subjects are key ids or `anon:<ip>`. */
export interface GpuTime {
  /** Seconds ComfyUI spent on the subject's prompts since local midnight. */
  secondsToday(subject: string): number;
  /** The mean of the last prompts' execution seconds; undefined before the first one. */
  averagePromptSeconds(): number | undefined;
}

/** How many recent prompts the average spans: enough to smooth one odd prompt, few enough to follow a new workload. */
export const RECENT_PROMPTS = 20;

interface DaySeconds {
  seconds: number;
  /** The next local midnight after the day these seconds belong to. */
  dayEnd: number;
}

/**
 * GPU seconds per subject for the current local day (the day usage.json and the prompts-per-day
 * limit count in), and the recent prompts' durations. In memory; the gate seeds it from usage.json at start.
 */
export class GpuLedger implements GpuTime {
  readonly #days = new Map<string, DaySeconds>();
  readonly #recent: number[] = [];
  #nextRecent = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** A measured prompt; returns the subject's seconds today including it. */
  add(subject: string, seconds: number): number {
    const now = this.now();
    this.#prune(now);
    if (this.#recent.length < RECENT_PROMPTS) this.#recent.push(seconds);
    else this.#recent[this.#nextRecent] = seconds;
    this.#nextRecent = (this.#nextRecent + 1) % RECENT_PROMPTS;
    return this.#addToDay(subject, seconds, now);
  }

  /** Seconds counted before this process started (usage.json); not a prompt of its own, so not in the average. */
  seed(subject: string, seconds: number): void {
    this.#addToDay(subject, seconds, this.now());
  }

  /** Today's GPU seconds per key from usage (with Redis, every gate's), so a restart keeps the quota's count. */
  seedFromUsage(usage: Pick<UsageAggregator, 'query'>): void {
    const today = localDate(this.now());
    for (const row of usage.query({ from: today, to: today }).days) {
      if (row.keyId !== ANONYMOUS && row.gpuSeconds > 0) this.seed(row.keyId, row.gpuSeconds);
    }
  }

  secondsToday(subject: string): number {
    const day = this.#days.get(subject);
    return day !== undefined && this.now() < day.dayEnd ? day.seconds : 0;
  }

  averagePromptSeconds(): number | undefined {
    if (this.#recent.length === 0) return undefined;
    let sum = 0;
    for (const seconds of this.#recent) sum += seconds;
    return sum / this.#recent.length;
  }

  #addToDay(subject: string, seconds: number, now: number): number {
    const day = this.#days.get(subject);
    if (day === undefined || now >= day.dayEnd) {
      this.#days.set(subject, { seconds, dayEnd: nextLocalMidnight(now) });
      return seconds;
    }
    day.seconds += seconds;
    return day.seconds;
  }

  /** Past days' subjects go, so addresses of the anonymous tier do not pile up. */
  #prune(now: number): void {
    for (const [subject, day] of this.#days) if (now >= day.dayEnd) this.#days.delete(subject);
  }
}
