import { describe, expect, it } from 'vitest';
import { rateLimitHeaders, secondsFromMs, type RateLimitPolicyState } from '../../server/limits/rateLimitHeaders.js';

const minute: RateLimitPolicyState = {
  name: 'per-minute',
  quota: 60,
  windowSeconds: 60,
  remaining: 59,
  resetSeconds: 2,
};
const hour: RateLimitPolicyState = {
  name: 'per-hour',
  quota: 1000,
  windowSeconds: 3600,
  remaining: 10,
  resetSeconds: 30,
};

function asObject(headers: readonly string[]): Record<string, string> {
  const object: Record<string, string> = {};
  for (let i = 0; i < headers.length; i += 2) object[headers[i] ?? ''] = headers[i + 1] ?? '';
  return object;
}

describe('rateLimitHeaders', () => {
  it('sends nothing when no policy applies', () => {
    expect(rateLimitHeaders([])).toEqual([]);
  });

  it('builds the draft-11 fields and the X- triple for one policy, as a flat list', () => {
    expect(rateLimitHeaders([minute])).toEqual([
      'X-RateLimit-Limit',
      '60',
      'X-RateLimit-Remaining',
      '59',
      'X-RateLimit-Reset',
      '2',
      'RateLimit-Policy',
      '"per-minute";q=60;w=60',
      'RateLimit',
      '"per-minute";r=59;t=2',
    ]);
  });

  it('lists every policy and puts the most restrictive one in the X- triple', () => {
    expect(asObject(rateLimitHeaders([minute, hour]))).toEqual({
      'X-RateLimit-Limit': '1000',
      'X-RateLimit-Remaining': '10',
      'X-RateLimit-Reset': '30',
      'RateLimit-Policy': '"per-minute";q=60;w=60, "per-hour";q=1000;w=3600',
      RateLimit: '"per-minute";r=59;t=2, "per-hour";r=10;t=30',
    });
  });

  it.each([
    {
      name: 'lowest remaining wins',
      policies: [
        { ...minute, remaining: 0, resetSeconds: 5 },
        { ...hour, remaining: 3, resetSeconds: 900 },
      ],
      expected: ['60', '0', '5'],
    },
    {
      name: 'on equal remaining, the longer wait wins',
      policies: [
        { ...minute, remaining: 0, resetSeconds: 5 },
        { ...hour, remaining: 0, resetSeconds: 900 },
      ],
      expected: ['1000', '0', '900'],
    },
    {
      name: 'on a full tie, the first listed wins',
      policies: [
        { ...minute, remaining: 4, resetSeconds: 5 },
        { ...hour, remaining: 4, resetSeconds: 5 },
      ],
      expected: ['60', '4', '5'],
    },
  ])('X- triple: $name', ({ policies, expected }) => {
    const headers = asObject(rateLimitHeaders(policies));
    expect([headers['X-RateLimit-Limit'], headers['X-RateLimit-Remaining'], headers['X-RateLimit-Reset']]).toEqual(
      expected
    );
  });

  it('adds Retry-After to a refusal', () => {
    const headers = rateLimitHeaders([{ ...minute, remaining: 0, resetSeconds: 7 }], 7);
    expect(headers.slice(-4)).toEqual(['RateLimit', '"per-minute";r=0;t=7', 'Retry-After', '7']);
  });

  it('escapes a policy name as an sf-string', () => {
    const headers = asObject(rateLimitHeaders([{ ...minute, name: 'a"b\\c' }]));
    expect(headers['RateLimit-Policy']).toBe('"a\\"b\\\\c";q=60;w=60');
  });
});

describe('secondsFromMs', () => {
  it.each([
    [0, 0],
    [-5, 0],
    [1, 1],
    [1000, 1],
    [1001, 2],
    [120_000, 120],
  ])('%i ms -> %i s', (ms, seconds) => {
    expect(secondsFromMs(ms)).toBe(seconds);
  });
});
