import { GateError, headerObject } from '../errors.js';
import type { Exchange } from '../pipeline/exchange.js';
import type { RequestStep } from '../pipeline/steps.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import { isPageFile } from './pageFiles.js';
import type { RateLimiter, RateLimitResult, RequestLimits } from './rateLimiter.js';

/** Windows shared by several gates (server/redis/): one decision across them, or undefined to decide locally. */
export interface SharedWindows {
  check(subject: string, limits: RequestLimits, now: number): Promise<RateLimitResult> | undefined;
}

/** The limits subject of anonymous callers: their address (mode `optional` only). */
export function anonymousSubject(clientIp: string): string {
  return 'anon:' + clientIp;
}

/**
 * Requests per minute and per hour for the caller's key, or for their address in the anonymous
 * tier. Nothing is limited in mode `off`. Prompt limits are checked on the body (promptQuotaCheck.ts).
 * The limits are there for scripts and the GPU: the web UI's own files and opening the WebSocket
 * (which the web UI retries every 300 ms while it is down) are not counted, so using the web UI
 * never trips them. With `shared` (several gates on one Redis), a limited key's count is one round trip to the
 * shared windows, awaited before the request goes on; while they cannot answer, the local windows count.
 */
export function limitStep(limiter: RateLimiter, settings: SettingsStore, shared?: SharedWindows): RequestStep {
  return function limit(exchange: Exchange): GateError | undefined {
    const { mode, anonymous } = settings.current;
    if (mode === 'off') return undefined;
    const principal = exchange.principal;
    let subject: string;
    let limits;
    if (principal) {
      subject = principal.keyId;
      limits = principal.limits;
    } else if (mode === 'optional') {
      subject = anonymousSubject(exchange.clientIp);
      limits = anonymous.limits;
    } else {
      return undefined;
    }
    exchange.limitSubject = subject;
    if (exchange.webSocket || isPageFile(exchange.req)) return undefined;
    const now = Date.now();
    const decided =
      shared !== undefined && (limits.perMinute !== null || limits.perHour !== null)
        ? shared.check(subject, limits, now)
        : undefined;
    if (decided === undefined) return applyDecision(exchange, limiter.check(subject, limits, now));
    exchange.pending = decided.then(
      (result) => applyDecision(exchange, result),
      () => applyDecision(exchange, limiter.check(subject, limits, now))
    );
    return undefined;
  };
}

function applyDecision(exchange: Exchange, result: RateLimitResult): GateError | undefined {
  if (!result.allowed) return new GateError(result.code, result.message, headerObject(result.headers));
  if (result.headers.length > 0) exchange.responseHeaders = result.headers;
  return undefined;
}
