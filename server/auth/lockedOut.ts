import type { IncomingMessage } from 'node:http';
import { renderLockedOutPage } from '../pages/loginPage.js';
import { GateError, GatePageError } from '../errors.js';
import type { Lock } from './authenticator.js';

/** The sign-in page's own headers: no script, no framing, nothing loaded from elsewhere. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
});

/**
 * The answer to every request from a locked-out address: 429 with Retry-After, as the sign-in page saying when to try
 * again for a person in a browser, as JSON for everyone else.
 */
export function lockedOutRefusal(lock: Lock, req: IncomingMessage, now: number): GateError {
  const headers = { 'retry-after': String(lock.retryAfterSeconds) };
  if (!wantsPage(req)) return new GateError('locked_out', lock.message, headers);
  return new GatePageError('locked_out', lock.message, renderLockedOutPage(lock.untilMs, now), {
    ...PAGE_HEADERS,
    ...headers,
  });
}

/** A browser navigating, the sign-in page itself, or the sign-in form being posted. */
function wantsPage(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  if (url === '/gate/login' || url.startsWith('/gate/login?')) return req.method === 'GET' || isFormPost(req);
  if (req.method === 'GET' || req.method === 'HEAD') {
    return req.headers.upgrade === undefined && (req.headers.accept ?? '').includes('text/html');
  }
  return isFormPost(req);
}

function isFormPost(req: IncomingMessage): boolean {
  return req.method === 'POST' && (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}
