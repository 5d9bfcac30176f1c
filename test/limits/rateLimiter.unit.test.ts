import { describe, expect, it, vi } from 'vitest';
import { HOUR_MS, MINUTE_MS, RateLimiter, type RequestLimits } from '../../server/limits/rateLimiter.js';

/** A whole number of hours since the epoch: minute and hour windows both start here. */
const T0 = 1_700_002_800_000;
const W = MINUTE_MS;
const H = HOUR_MS;

function headerMap(headers: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (let i = 0; i < headers.length; i += 2) map[headers[i] ?? ''] = headers[i + 1] ?? '';
  return map;
}

function limits(perMinute: number | null, perHour: number | null): RequestLimits {
  return { perMinute, perHour };
}

describe('RateLimiter.check', () => {
  it('costs nothing and says nothing when both limits are null', () => {
    const limiter = new RateLimiter();
    const first = limiter.check('k', limits(null, null), T0);
    expect(first).toEqual({ allowed: true, headers: [] });
    expect(limiter.check('k', limits(null, null), T0)).toBe(first);
  });

  it('sends both policies on an allowed request', () => {
    const limiter = new RateLimiter();
    expect(limiter.check('k', limits(60, 1000), T0)).toEqual({
      allowed: true,
      headers: [
        'X-RateLimit-Limit',
        '60',
        'X-RateLimit-Remaining',
        '59',
        'X-RateLimit-Reset',
        '120',
        'RateLimit-Policy',
        '"per-minute";q=60;w=60, "per-hour";q=1000;w=3600',
        'RateLimit',
        '"per-minute";r=59;t=120, "per-hour";r=999;t=7200',
      ],
    });
  });

  it('refuses past the minute limit with rate_limit_minute, and recovers when Retry-After says', () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 3; i++) expect(limiter.check('k', limits(3, null), T0).allowed).toBe(true);
    const refused = limiter.check('k', limits(3, null), T0 + 1000);
    // Three hits must decay to two: a third of the way into the next window, 79 s from now.
    expect(refused).toEqual({
      allowed: false,
      code: 'rate_limit_minute',
      message: 'Rate limit of 3 requests per minute reached; retry in 79 s.',
      retryAfterSeconds: 79,
      headers: [
        'X-RateLimit-Limit',
        '3',
        'X-RateLimit-Remaining',
        '0',
        'X-RateLimit-Reset',
        '79',
        'RateLimit-Policy',
        '"per-minute";q=3;w=60',
        'RateLimit',
        '"per-minute";r=0;t=79',
        'Retry-After',
        '79',
      ],
    });
    expect(limiter.check('k', limits(3, null), T0 + 1000 + 79_000 - 1).allowed).toBe(false);
    expect(limiter.check('k', limits(3, null), T0 + 1000 + 79_000).allowed).toBe(true);
  });

  it('refuses past the hour limit with rate_limit_hour, without consuming the minute window', () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 5; i++) expect(limiter.check('k', limits(100, 5), T0 + i * 10 * W).allowed).toBe(true);
    const refused = limiter.check('k', limits(100, 5), T0 + 50 * W);
    expect(refused.allowed).toBe(false);
    if (refused.allowed) return;
    // Five hits must decay to four: 12 minutes into the next hour, 22 minutes from now.
    expect(refused.code).toBe('rate_limit_hour');
    expect(refused.retryAfterSeconds).toBe(22 * 60);
    expect(refused.message).toBe('Rate limit of 5 requests per hour reached; retry in 1320 s.');
    expect(headerMap(refused.headers)).toEqual({
      'X-RateLimit-Limit': '5',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': '1320',
      'RateLimit-Policy': '"per-minute";q=100;w=60, "per-hour";q=5;w=3600',
      RateLimit: '"per-minute";r=100;t=0, "per-hour";r=0;t=1320',
      'Retry-After': '1320',
    });
    expect(limiter.check('k', limits(100, 5), T0 + 72 * W).allowed).toBe(true);
  });

  it('does not count requests the minute limit refused against the hour', () => {
    const limiter = new RateLimiter();
    const both = limits(2, 3);
    expect(limiter.check('k', both, T0).allowed).toBe(true);
    expect(limiter.check('k', both, T0).allowed).toBe(true);
    for (let i = 0; i < 5; i++) expect(limiter.check('k', both, T0 + 1000 + i).allowed).toBe(false);
    expect(limiter.check('k', both, T0 + 2 * W).allowed).toBe(true);
    expect(limiter.check('k', both, T0 + 2 * W)).toMatchObject({ allowed: false, code: 'rate_limit_hour' });
  });

  it.each([
    {
      name: 'the hour, when its wait is longer',
      setup: (l: RateLimiter) => {
        l.check('k', limits(2, 2), T0);
        l.check('k', limits(2, 2), T0);
      },
      at: T0 + 1000,
      perMinute: 2,
      perHour: 2,
      code: 'rate_limit_hour',
      // Two hits decay to one half-way through the next hour.
      retryAfterSeconds: (H - 1000 + H / 2) / 1000,
    },
    {
      name: 'the minute, when its wait is longer',
      setup: (l: RateLimiter) => {
        l.check('k', limits(1, 2), T0 + 10 * W);
        l.check('k', limits(1, 2), T0 + 20 * W);
        l.check('k', limits(1, 2), T0 + H + 59 * W);
      },
      at: T0 + H + 59 * W + 1000,
      perMinute: 1,
      perHour: 2,
      code: 'rate_limit_minute',
      // The hour frees a slot at its end (59 s); the minute's lone hit weighs until the end of the next minute.
      retryAfterSeconds: 119,
    },
  ])('names the limit that sets the wait when both refuse: $name', (c) => {
    const limiter = new RateLimiter();
    c.setup(limiter);
    const result = limiter.check('k', limits(c.perMinute, c.perHour), c.at);
    expect(result.allowed).toBe(false);
    if (result.allowed) return;
    expect(result.code).toBe(c.code);
    expect(result.retryAfterSeconds).toBe(c.retryAfterSeconds);
    expect(headerMap(result.headers)['Retry-After']).toBe(String(c.retryAfterSeconds));
  });

  it('keeps counts when limits change', () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 5; i++) limiter.check('k', limits(10, null), T0);
    expect(limiter.check('k', limits(5, null), T0 + 1)).toMatchObject({ allowed: false, code: 'rate_limit_minute' });
    expect(headerMap(limiter.check('k', limits(10, null), T0 + 2).headers)['X-RateLimit-Remaining']).toBe('4');
  });

  it('only reports the limits that are set', () => {
    const limiter = new RateLimiter();
    const headers = headerMap(limiter.check('k', limits(null, 2), T0).headers);
    expect(headers['RateLimit-Policy']).toBe('"per-hour";q=2;w=3600');
    expect(headers.RateLimit).toBe('"per-hour";r=1;t=7200');
  });

  it('keeps subjects apart', () => {
    const limiter = new RateLimiter();
    expect(limiter.check('key-a', limits(1, null), T0).allowed).toBe(true);
    expect(limiter.check('key-a', limits(1, null), T0).allowed).toBe(false);
    expect(limiter.check('anon:10.0.0.7', limits(1, null), T0).allowed).toBe(true);
  });

  it('forget drops every count of a subject', () => {
    const limiter = new RateLimiter();
    limiter.check('k', limits(1, 1), T0);
    limiter.countPrompt('k', T0);
    limiter.forget('k');
    expect(limiter.check('k', limits(1, 1), T0).allowed).toBe(true);
    expect(limiter.promptsToday('k', T0)).toBe(0);
  });

  it('stays correct across its periodic sweep of idle subjects', () => {
    const limiter = new RateLimiter({ pruneIntervalMs: W });
    limiter.check('idle', limits(1, null), T0);
    limiter.check('busy', limits(2, null), T0 + 2 * W);
    limiter.check('busy', limits(2, null), T0 + 2 * W);
    limiter.check('other', limits(1, null), T0 + 3 * W);
    expect(limiter.check('busy', limits(2, null), T0 + 3 * W).allowed).toBe(false);
    expect(limiter.check('idle', limits(1, null), T0 + 3 * W).allowed).toBe(true);
  });
});

describe('RateLimiter prompts per day', () => {
  const local = (day: number, hour: number, minute = 0): number => new Date(2025, 0, day, hour, minute).getTime();

  it('is unlimited when the limit is null', () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 5; i++) limiter.countPrompt('k', local(15, 10));
    expect(limiter.checkPrompt('k', null, local(15, 10))).toEqual({ allowed: true, headers: [] });
  });

  it('checking does not count: only accepted prompts do', () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 5; i++) expect(limiter.checkPrompt('k', 1, local(15, 10)).allowed).toBe(true);
    limiter.countPrompt('k', local(15, 10));
    expect(limiter.checkPrompt('k', 1, local(15, 10)).allowed).toBe(false);
  });

  it('refuses at the limit until local midnight', () => {
    const limiter = new RateLimiter();
    limiter.countPrompt('k', local(15, 9));
    limiter.countPrompt('k', local(15, 10));
    expect(limiter.promptsToday('k', local(15, 23, 59))).toBe(2);
    expect(limiter.checkPrompt('k', 2, local(15, 23, 59))).toEqual({
      allowed: false,
      code: 'rate_limit_prompts_day',
      message: 'Daily limit of 2 prompts reached; it resets at local midnight, in 60 s.',
      retryAfterSeconds: 60,
      headers: [
        'X-RateLimit-Limit',
        '2',
        'X-RateLimit-Remaining',
        '0',
        'X-RateLimit-Reset',
        '60',
        'RateLimit-Policy',
        '"prompts-per-day";q=2;w=86400',
        'RateLimit',
        '"prompts-per-day";r=0;t=60',
        'Retry-After',
        '60',
      ],
    });
    expect(limiter.checkPrompt('k', 3, local(15, 23, 59)).allowed).toBe(true);
    expect(limiter.checkPrompt('k', 2, local(16, 0)).allowed).toBe(true);
    expect(limiter.promptsToday('k', local(16, 0))).toBe(0);
  });

  it('counts prompts made before a limit was set', () => {
    const limiter = new RateLimiter();
    limiter.countPrompt('k', local(15, 8));
    expect(limiter.checkPrompt('k', 1, local(15, 12)).allowed).toBe(false);
  });

  it.each([
    {
      tz: 'America/New_York',
      // 23:30 on Jan 15 in New York is 04:30 UTC on Jan 16: still the operator's Jan 15.
      counted: Date.UTC(2025, 0, 15, 20, 0),
      stillToday: Date.UTC(2025, 0, 16, 4, 59, 59),
      midnight: Date.UTC(2025, 0, 16, 5, 0),
    },
    {
      tz: 'Europe/Berlin',
      // Clocks skip 02:00 to 03:00 on 30 March 2025: a 23-hour day, ending at 22:00 UTC.
      counted: Date.UTC(2025, 2, 29, 23, 30),
      stillToday: Date.UTC(2025, 2, 30, 21, 59, 59),
      midnight: Date.UTC(2025, 2, 30, 22, 0),
    },
  ])('follows the operator’s local day ($tz)', ({ tz, counted, stillToday, midnight }) => {
    vi.stubEnv('TZ', tz);
    const limiter = new RateLimiter();
    limiter.countPrompt('k', counted);
    const refused = limiter.checkPrompt('k', 1, stillToday);
    expect(refused).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.checkPrompt('k', 1, midnight).allowed).toBe(true);
  });
});
