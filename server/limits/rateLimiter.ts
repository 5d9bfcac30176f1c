import { rateLimitHeaders, secondsFromMs, type HeaderList, type RateLimitPolicyState } from './rateLimitHeaders.js';
import { SlidingWindowCounter, type WindowDecision } from './slidingWindow.js';

/** Request limits for one subject; null = unlimited. */
export interface RequestLimits {
  perMinute: number | null;
  perHour: number | null;
}

export type RateLimitCode = 'rate_limit_minute' | 'rate_limit_hour';
export type PromptLimitCode = 'rate_limit_prompts_day';

export interface LimitAllowed {
  allowed: true;
  /** Flat `[name, value, …]`; empty when nothing limits the subject. */
  headers: readonly string[];
}

export interface LimitRefused<Code extends string> {
  allowed: false;
  code: Code;
  message: string;
  retryAfterSeconds: number;
  /** Includes `Retry-After`: send them as they are with the 429. */
  headers: readonly string[];
}

export type RateLimitResult = LimitAllowed | LimitRefused<RateLimitCode>;
export type PromptLimitResult = LimitAllowed | LimitRefused<PromptLimitCode>;

export interface RateLimiterOptions {
  /** How often idle subjects are swept, at most; the sweep runs inside a call, never on a timer. Default 60 s. */
  pruneIntervalMs?: number;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
/** Nominal, for the `w` parameter only: the prompt day is the operator's local calendar day (23 to 25 hours). */
const DAY_SECONDS = 86_400;

const POLICY_MINUTE = 'per-minute';
const POLICY_HOUR = 'per-hour';
const POLICY_PROMPTS = 'prompts-per-day';

const NO_HEADERS: readonly string[] = Object.freeze([]);
const UNLIMITED: LimitAllowed = Object.freeze({ allowed: true, headers: NO_HEADERS });

interface DayCount {
  count: number;
  /** The next local midnight after the day this count belongs to. */
  dayEnd: number;
}

/**
 * Per-subject request limits (sliding minute and hour windows) and the daily prompt count. A subject is a key id, or
 * `anon:<ip>` for the anonymous tier.
 *
 * Limits are passed on every call rather than stored, so an edited key or changed settings apply at once while the
 * counts already made stay. A null limit is not counted at all: unlimited subjects cost no memory and no work.
 */
export class RateLimiter {
  readonly #minute = new SlidingWindowCounter(MINUTE_MS);
  readonly #hour = new SlidingWindowCounter(HOUR_MS);
  readonly #prompts = new Map<string, DayCount>();
  readonly #pruneIntervalMs: number;
  #nextPruneAt = -Infinity;
  // Reused for every header build: the builder reads them synchronously.
  readonly #policies: RateLimitPolicyState[] = [];
  readonly #minuteState = policyState(POLICY_MINUTE, 60);
  readonly #hourState = policyState(POLICY_HOUR, 3600);

  constructor(options: RateLimiterOptions = {}) {
    this.#pruneIntervalMs = options.pruneIntervalMs ?? 60_000;
  }

  /**
   * Counts one request for `subject` against every limit that is set, all or nothing: a refused request consumes
   * nothing in any window.
   */
  check(subject: string, limits: RequestLimits, now: number): RateLimitResult {
    if (now >= this.#nextPruneAt) this.#prune(now);
    const { perMinute, perHour } = limits;
    if (perMinute === null && perHour === null) return UNLIMITED;

    let minute = perMinute === null ? null : this.#minute.hit(subject, perMinute, now);
    let hour = perHour === null ? null : this.#hour.hit(subject, perHour, now);
    if ((minute === null || minute.allowed) && (hour === null || hour.allowed)) {
      return { allowed: true, headers: this.#headers(minute, hour) };
    }

    // The caller can only get through once every refusing window has a free slot: wait for the slowest one, and name
    // the limit that sets that wait. A window that allowed the request cannot refuse later without further hits.
    const minuteWait = minute !== null && !minute.allowed ? minute.resetMs : -1;
    const hourWait = hour !== null && !hour.allowed ? hour.resetMs : -1;
    const retryAfterSeconds = Math.max(1, secondsFromMs(Math.max(minuteWait, hourWait)));
    // Give back what the other window counted, and report it as it stands without this request.
    if (perMinute !== null && minuteWait < 0) {
      this.#minute.undoHit(subject);
      minute = this.#minute.peek(subject, perMinute, now);
    }
    if (perHour !== null && hourWait < 0) {
      this.#hour.undoHit(subject);
      hour = this.#hour.peek(subject, perHour, now);
    }
    const headers = this.#headers(minute, hour, retryAfterSeconds);
    const hourSetsWait = hourWait >= minuteWait;
    const code = hourSetsWait ? 'rate_limit_hour' : 'rate_limit_minute';
    const what = hourSetsWait ? `${perHour} requests per hour` : `${perMinute} requests per minute`;
    return refused(code, `Rate limit of ${what} reached; retry in ${retryAfterSeconds} s.`, retryAfterSeconds, headers);
  }

  /**
   * Whether `subject` may send one more prompt today. Counts nothing: call `countPrompt` once the prompt was accepted
   * upstream, so rejected prompts are free. Concurrent prompts that are checked before either is counted can overrun
   * the limit by the number in flight.
   */
  checkPrompt(subject: string, limit: number | null, now: number): PromptLimitResult {
    if (limit === null) return UNLIMITED;
    const day = this.#day(subject, now);
    const count = day?.count ?? 0;
    if (count < limit) return UNLIMITED;

    const dayEnd = day?.dayEnd ?? nextLocalMidnight(now);
    const retryAfterSeconds = Math.max(1, secondsFromMs(dayEnd - now));
    const headers = rateLimitHeaders(
      [
        {
          name: POLICY_PROMPTS,
          quota: limit,
          windowSeconds: DAY_SECONDS,
          remaining: 0,
          resetSeconds: retryAfterSeconds,
        },
      ],
      retryAfterSeconds
    );
    return refused(
      'rate_limit_prompts_day',
      `Daily limit of ${limit} prompts reached; it resets at local midnight, in ${retryAfterSeconds} s.`,
      retryAfterSeconds,
      headers
    );
  }

  /**
   * Records a prompt accepted upstream. Counted whether or not a daily limit is set (prompts are rare), so a limit
   * added during the day sees the prompts already sent that day.
   */
  countPrompt(subject: string, now: number): void {
    const day = this.#day(subject, now);
    if (day === undefined) this.#prompts.set(subject, { count: 1, dayEnd: nextLocalMidnight(now) });
    else day.count++;
  }

  /** Prompts counted for `subject` since local midnight. */
  promptsToday(subject: string, now: number): number {
    return this.#day(subject, now)?.count ?? 0;
  }

  /** Drops every count of a deleted key (or a subject that should start afresh). */
  forget(subject: string): void {
    this.#minute.delete(subject);
    this.#hour.delete(subject);
    this.#prompts.delete(subject);
  }

  /** The subject's count for the local day containing `now`, resetting it when the day has changed. */
  #day(subject: string, now: number): DayCount | undefined {
    const day = this.#prompts.get(subject);
    if (day === undefined || now < day.dayEnd) return day;
    day.count = 0;
    day.dayEnd = nextLocalMidnight(now);
    return day;
  }

  #headers(minute: WindowDecision | null, hour: WindowDecision | null, retryAfterSeconds?: number): HeaderList {
    const policies = this.#policies;
    policies.length = 0;
    if (minute !== null) policies.push(fill(this.#minuteState, minute));
    if (hour !== null) policies.push(fill(this.#hourState, hour));
    return rateLimitHeaders(policies, retryAfterSeconds);
  }

  #prune(now: number): void {
    this.#nextPruneAt = now + this.#pruneIntervalMs;
    this.#minute.prune(now);
    this.#hour.prune(now);
    for (const [subject, day] of this.#prompts) {
      if (now >= day.dayEnd) this.#prompts.delete(subject);
    }
  }
}

function refused<Code extends string>(
  code: Code,
  message: string,
  retryAfterSeconds: number,
  headers: readonly string[]
): LimitRefused<Code> {
  return { allowed: false, code, message, retryAfterSeconds, headers };
}

function policyState(name: string, windowSeconds: number): RateLimitPolicyState {
  return { name, quota: 0, windowSeconds, remaining: 0, resetSeconds: 0 };
}

function fill(state: RateLimitPolicyState, decision: WindowDecision): RateLimitPolicyState {
  state.quota = decision.limit;
  state.remaining = decision.remaining;
  state.resetSeconds = secondsFromMs(decision.resetMs);
  return state;
}

/** The day "as the operator sees it": local time of the machine the gate runs on, DST included. */
export function nextLocalMidnight(now: number): number {
  const date = new Date(now);
  date.setHours(24, 0, 0, 0);
  return date.getTime();
}
