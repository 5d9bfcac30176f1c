/**
 * Response headers for a rate-limited caller.
 *
 * `RateLimit-Policy` and `RateLimit` follow draft-ietf-httpapi-ratelimit-headers-11 (23 May 2026), §3 and §4: each
 * is a Structured Fields List of Items whose value is the policy name as an sf-string, with Integer parameters
 * `q` (quota, §3.1.1) and `w` (window in seconds, §3.1.3) in the policy, `r` (available quota, §4.1.1) and `t`
 * (seconds of the effective window, §4.1.2) in the service limit; e.g. `"permin";q=50;w=60,"perhr";q=1000;w=3600`
 * and `"default";r=50;t=30`. List members are joined with ", " as RFC 9651 §4.1.1 serializes Lists.
 * `qu` is left out: the default quota unit is "requests", which is what every policy here counts.
 *
 * `X-RateLimit-*` is the de facto triple most clients still read; it carries the most restrictive policy, with
 * `X-RateLimit-Reset` in seconds from now (not an epoch time), the same delay-seconds the draft uses for `t`.
 */

export interface RateLimitPolicyState {
  /** Policy name, sent as an sf-string: printable ASCII. */
  name: string;
  quota: number;
  windowSeconds: number;
  remaining: number;
  resetSeconds: number;
}

/** Flat `[name, value, name, value, …]`, as `res.writeHead(status, headers)` accepts. */
export type HeaderList = string[];

/**
 * Builds the headers for the policies that applied to this request; `retryAfterSeconds` adds `Retry-After` to a
 * refusal. No policies (everything unlimited) means no headers.
 */
export function rateLimitHeaders(policies: readonly RateLimitPolicyState[], retryAfterSeconds?: number): HeaderList {
  const first = policies[0];
  if (first === undefined) return retryAfterSeconds === undefined ? [] : ['Retry-After', String(retryAfterSeconds)];

  let tightest = first;
  let policy = '';
  let limit = '';
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i] as RateLimitPolicyState;
    if (
      p.remaining < tightest.remaining ||
      (p.remaining === tightest.remaining && p.resetSeconds > tightest.resetSeconds)
    ) {
      tightest = p;
    }
    const name = sfString(p.name);
    const sep = i === 0 ? '' : ', ';
    policy += `${sep}${name};q=${p.quota};w=${p.windowSeconds}`;
    limit += `${sep}${name};r=${p.remaining};t=${p.resetSeconds}`;
  }

  const headers = [
    'X-RateLimit-Limit',
    String(tightest.quota),
    'X-RateLimit-Remaining',
    String(tightest.remaining),
    'X-RateLimit-Reset',
    String(tightest.resetSeconds),
    'RateLimit-Policy',
    policy,
    'RateLimit',
    limit,
  ];
  if (retryAfterSeconds !== undefined) headers.push('Retry-After', String(retryAfterSeconds));
  return headers;
}

/** Whole seconds for `t`, `X-RateLimit-Reset` and `Retry-After`, rounded up so a client waiting that long is not early. */
export function secondsFromMs(ms: number): number {
  return ms <= 0 ? 0 : Math.ceil(ms / 1000);
}

/** RFC 9651 §4.1.6: only `"` and `\` need escaping inside an sf-string. */
function sfString(value: string): string {
  return value.includes('"') || value.includes('\\') ? `"${value.replace(/["\\]/g, '\\$&')}"` : `"${value}"`;
}
