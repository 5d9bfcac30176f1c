import type { SharedWindows } from '../limits/limitStep.js';
import { HOUR_MS, MINUTE_MS, type RateLimitResult, type RequestLimits } from '../limits/rateLimiter.js';
import { rateLimitHeaders, secondsFromMs, type RateLimitPolicyState } from '../limits/rateLimitHeaders.js';
import type { RedisLink } from './redisLink.js';

/**
 * The two-bucket sliding window of limits/slidingWindow.ts, on Redis, for one subject's minute and hour windows at
 * once and all or nothing: a hit counts in every window only if every window allows it. Returns per window
 * `allowed, previous, current, elapsed`, the counts as they stand after the decision.
 */
const HIT_SCRIPT = `
local now = tonumber(ARGV[1])
local all = 1
local states = {}
for i = 1, #KEYS do
  local w = tonumber(ARGV[i * 2])
  local limit = tonumber(ARGV[i * 2 + 1])
  local saved = redis.call('HMGET', KEYS[i], 's', 'c', 'p')
  local windowStart = now - (now % w)
  local start, current, previous = tonumber(saved[1]), tonumber(saved[2]) or 0, tonumber(saved[3]) or 0
  if start == nil then
    start, current, previous = windowStart, 0, 0
  elseif windowStart > start then
    if windowStart - start == w then previous = current else previous = 0 end
    current, start = 0, windowStart
  end
  local elapsed = now - start
  if elapsed < 0 then elapsed = 0 end
  local allowed = 0
  if previous * (w - elapsed) + (current + 1) * w <= limit * w then allowed = 1 else all = 0 end
  states[i] = { start, current, previous, elapsed, allowed }
end
local out = {}
for i = 1, #KEYS do
  local s = states[i]
  if all == 1 then s[2] = s[2] + 1 end
  redis.call('HSET', KEYS[i], 's', s[1], 'c', s[2], 'p', s[3])
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[i * 2]) * 2)
  table.insert(out, s[5])
  table.insert(out, s[3])
  table.insert(out, s[2])
  table.insert(out, s[4])
end
return out
`;

/** A Redis that accepts connections but does not answer in time must not hold requests: the local windows decide. */
const ANSWER_BOUND_MS = 1_000;

interface Window {
  name: string;
  ms: number;
  limit: number;
}

/**
 * Per-minute and per-hour limits as one limit across every gate sharing Redis: one round trip (one script) per
 * request of a key that has such a limit; keys without one cost nothing. While Redis is away it answers undefined
 * and the gate counts in its own windows.
 */
export class SharedRateLimits implements SharedWindows {
  constructor(private readonly link: RedisLink) {}

  check(subject: string, limits: RequestLimits, now: number): Promise<RateLimitResult> | undefined {
    if (!this.link.online) return undefined;
    const windows: Window[] = [];
    if (limits.perMinute !== null) windows.push({ name: 'per-minute', ms: MINUTE_MS, limit: limits.perMinute });
    if (limits.perHour !== null) windows.push({ name: 'per-hour', ms: HOUR_MS, limit: limits.perHour });
    const args = [String(now)];
    for (const window of windows) args.push(String(window.ms), String(window.limit));
    const answer = this.link.commands.eval(HIT_SCRIPT, {
      keys: windows.map((window) => `comfygate:rate:${window.ms}:${subject}`),
      arguments: args,
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Redis did not answer in time')), ANSWER_BOUND_MS);
    });
    return Promise.race([answer, late])
      .then((reply) => decide(windows, reply as number[]))
      .finally(() => clearTimeout(timer));
  }
}

function decide(windows: readonly Window[], reply: readonly number[]): RateLimitResult {
  const policies: RateLimitPolicyState[] = [];
  let retryMs = -1;
  let refusedBy: Window | undefined;
  windows.forEach((window, i) => {
    const [allowed, previous, current, elapsed] = reply.slice(i * 4, i * 4 + 4) as [number, number, number, number];
    const w = window.ms;
    const scaled = previous * (w - elapsed) + current * w;
    const remaining = Math.max(0, Math.floor((window.limit * w - scaled) / w));
    const resetMs =
      remaining >= window.limit ? 0 : msUntilFreed(window.limit - remaining - 1, w, elapsed, previous, current);
    if (allowed === 0 && resetMs >= retryMs) {
      retryMs = resetMs;
      refusedBy = window;
    }
    policies.push({
      name: window.name,
      quota: window.limit,
      windowSeconds: w / 1000,
      remaining,
      resetSeconds: secondsFromMs(resetMs),
    });
  });
  if (refusedBy === undefined) return { allowed: true, headers: rateLimitHeaders(policies) };
  const retryAfterSeconds = Math.max(1, secondsFromMs(retryMs));
  const hour = refusedBy.ms === HOUR_MS;
  return {
    allowed: false,
    code: hour ? 'rate_limit_hour' : 'rate_limit_minute',
    message: `Rate limit of ${refusedBy.limit} requests per ${hour ? 'hour' : 'minute'} reached; retry in ${retryAfterSeconds} s.`,
    retryAfterSeconds,
    headers: rateLimitHeaders(policies, retryAfterSeconds),
  };
}

/** As in limits/slidingWindow.ts: ms until the weighted estimate has decayed to `target` units. */
function msUntilFreed(target: number, w: number, elapsed: number, previous: number, current: number): number {
  if (current <= target) return w - Math.floor(((target - current) * w) / previous) - elapsed;
  return w - elapsed + w - Math.floor((target * w) / current);
}
