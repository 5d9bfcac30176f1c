import { GateError } from '../errors.js';
import type { Exchange, RequestStep } from './pipeline.js';

/**
 * The CSRF check ComfyUI can no longer do behind a proxy: a browser request that carries an Origin
 * must come from the gate's own origin. Afterwards the gate drops Origin and Sec-Fetch-* so that
 * ComfyUI's own Host/Origin check (which would compare against its loopback Host) passes.
 */
export const originGuard: RequestStep = (exchange: Exchange) => {
  const headers = exchange.req.headers;
  const origin = headers.origin;
  if (origin !== undefined && !isOwnOrigin(origin, headers.host, exchange.secure)) {
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
