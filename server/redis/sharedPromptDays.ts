import { GateError, headerObject } from '../errors.js';
import { rateLimitHeaders, secondsFromMs } from '../limits/rateLimitHeaders.js';
import type { Exchange } from '../pipeline/exchange.js';
import type { BodyCheck } from '../pipeline/steps.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import type { RedisLink } from './redisLink.js';

/** Counts of a day are kept two days, past any time zone's midnight. */
const DAY_TTL_SECONDS = 2 * 86_400;

/** Takes one prompt of the day if the limit (-1: none) allows it: the count after, or -1 when refused. */
const TAKE_SCRIPT = `
local counted = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local limit = tonumber(ARGV[2])
if limit >= 0 and counted >= limit then return -1 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return counted + 1
`;

/**
 * Prompts per day as one count across the gates. A prompt takes its place in the subject's count of the day in
 * Redis before it is sent on (one script: check and count at once, so two gates cannot both let the last one
 * through) and gives it back if ComfyUI refuses it. The day is the local calendar day, so the gates should share a
 * time zone. Prompts accepted while Redis was away are kept and added when it is back; meanwhile each gate's own
 * count (limits/rateLimiter.ts) applies.
 */
export class SharedPromptDays {
  /** `day subject` → prompts not yet added to Redis. */
  readonly #buffered = new Map<string, number>();
  /** Prompts that took their place in Redis, with the day they took it in. */
  readonly #taken = new WeakMap<Exchange, string>();

  constructor(private readonly link: RedisLink) {
    link.events.on('up', () => this.flush());
  }

  /** After the local prompt checks: takes the prompt's place in the shared count, or refuses it. */
  check(settings: SettingsStore): BodyCheck {
    return async (exchange, body) => {
      const subject = exchange.limitSubject;
      if (exchange.bodyCheck !== 'prompt' || body.members === undefined || subject === null) return undefined;
      if (!this.link.online) return undefined;
      const limit = (exchange.principal?.limits ?? settings.current.anonymous.limits).promptsPerDay;
      const now = Date.now();
      const day = dayKey(now);
      const counted = await this.link.commands
        .eval(TAKE_SCRIPT, { keys: [day], arguments: [subject, String(limit ?? -1), String(DAY_TTL_SECONDS)] })
        .catch(() => undefined);
      if (counted === undefined) return undefined;
      if (counted !== -1) {
        this.#taken.set(exchange, day);
        return undefined;
      }
      const retryAfterSeconds = Math.max(1, secondsFromMs(nextLocalMidnight(now) - now));
      const quota = limit ?? 0;
      const headers = rateLimitHeaders(
        [{ name: 'prompts-per-day', quota, windowSeconds: 86_400, remaining: 0, resetSeconds: retryAfterSeconds }],
        retryAfterSeconds
      );
      return new GateError(
        'rate_limit_prompts_day',
        `Daily limit of ${quota} prompts reached; it resets at local midnight, in ${retryAfterSeconds} s.`,
        headerObject(headers)
      );
    };
  }

  /** On ComfyUI's answer: a refused prompt gives its place back; one accepted while Redis was away is kept. */
  settle(exchange: Exchange, status: number): void {
    const subject = exchange.limitSubject;
    if (subject === null || exchange.bodyCheck !== 'prompt') return;
    const day = this.#taken.get(exchange);
    if (day !== undefined) {
      this.#taken.delete(exchange);
      if (status !== 200) this.#add(day, subject, -1);
    } else if (status === 200 && exchange.promptId !== null) {
      this.#add(dayKey(Date.now()), subject, 1);
    }
  }

  flush(): void {
    const pending = [...this.#buffered];
    this.#buffered.clear();
    for (const [entry, count] of pending) {
      const space = entry.indexOf(' ');
      this.#add(entry.slice(0, space), entry.slice(space + 1), count);
    }
  }

  #add(day: string, subject: string, count: number): void {
    const keep = (): void => {
      const entry = `${day} ${subject}`;
      this.#buffered.set(entry, (this.#buffered.get(entry) ?? 0) + count);
    };
    if (!this.link.online) return keep();
    this.link.commands.multi().hIncrBy(day, subject, count).expire(day, DAY_TTL_SECONDS).exec().catch(keep);
  }
}

function dayKey(now: number): string {
  const at = new Date(now);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `comfygate:prompts:${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
}

function nextLocalMidnight(now: number): number {
  const date = new Date(now);
  date.setHours(24, 0, 0, 0);
  return date.getTime();
}
