import { GateError } from '../errors.js';
import type { Exchange } from './exchange.js';
import { isLoopbackHostHeader } from './hostNames.js';
import type { RequestStep } from './steps.js';

/**
 * The CSRF check ComfyUI can no longer do behind a proxy: a browser request that carries an Origin
 * must come from the gate's own origin. Afterwards the gate drops Origin and Sec-Fetch-* so that
 * ComfyUI's own Host/Origin check (which would compare against its loopback Host) passes.
 *
 * A gate that listens on loopback only also refuses Host names that are not loopback names: a
 * DNS-rebinding page (attacker.example resolving to 127.0.0.1) is same-origin with itself, so the
 * Origin check alone would let it drive ComfyUI — with protection off, without any credential. A host a trusted
 * proxy names instead is the proxy's to vouch for: a page cannot add X-Forwarded-Host without a CORS preflight,
 * and the preflight itself carries no such header, so it is refused here. `loopbackOnly` is asked per request:
 * the sharing switch moves the listener while the gate runs.
 */
export function originStep(loopbackOnly: () => boolean): RequestStep {
  return function origin(exchange: Exchange) {
    const headers = exchange.req.headers;
    const forwardedHost = exchange.forwardedHost;
    if (forwardedHost === null && loopbackOnly() && !isLoopbackHostHeader(headers.host)) {
      return new GateError(
        'forbidden_origin',
        `This gate listens on this machine only and answers to localhost names, not to ${truncate(headers.host ?? 'a request without Host')}`
      );
    }
    const origin = headers.origin;
    if (origin !== undefined && !isOwnOrigin(origin, forwardedHost ?? headers.host, exchange.secure)) {
      return new GateError(
        'forbidden_origin',
        `Requests from origin ${truncate(origin)} are refused: open ComfyUI through the gate's own address`
      );
    }
    if (headers['sec-fetch-site'] === 'cross-site' && !isSafeMethod(exchange.req.method)) {
      return new GateError('forbidden_origin', 'Cross-site requests that change state are refused');
    }
    return undefined;
  };
}

/** Scheme, host and port must match what the client addressed; `null` (sandboxed or opaque) never does. */
export function isOwnOrigin(origin: string, host: string | undefined, secure: boolean): boolean {
  if (!host || origin === 'null') return false;
  const scheme = secure ? 'https:' : 'http:';
  let own: URL;
  let theirs: URL;
  try {
    own = new URL(`${scheme}//${host}`);
    theirs = new URL(origin);
  } catch {
    return false;
  }
  return theirs.protocol === scheme && theirs.host === own.host && own.pathname === '/' && !own.username;
}

function isSafeMethod(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

function truncate(value: string): string {
  return value.length > 100 ? value.slice(0, 100) + '…' : value;
}
