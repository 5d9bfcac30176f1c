import { GateError } from '../errors.js';
import type { RequestStep } from '../pipeline/steps.js';
import type { RedisLink } from './redisLink.js';

/** How long auth keeps answering from the last known keys while Redis is unreachable. */
export const OFFLINE_AUTH_BOUND_MS = 10 * 60_000;

/**
 * With Redis, the keys in memory are a copy: a revocation made elsewhere during an outage cannot arrive. The copy is
 * trusted for OFFLINE_AUTH_BOUND_MS of outage; past it every request is refused until Redis answers again. One
 * comparison per request, and only on gates that run with Redis.
 */
export function sharedStateStep(
  link: Pick<RedisLink, 'offlineSince' | 'label'>,
  boundMs = OFFLINE_AUTH_BOUND_MS
): RequestStep {
  return function sharedState(): GateError | undefined {
    const since = link.offlineSince;
    if (since === null || Date.now() - since <= boundMs) return undefined;
    return new GateError(
      'shared_state_unavailable',
      `The gates' shared state (Redis at ${link.label}) has not answered for over ${Math.round(boundMs / 60_000)} minutes, ` +
        'so this gate can no longer vouch for any key; requests are refused until it is back.'
    );
  };
}
