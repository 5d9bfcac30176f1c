import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Authenticator } from '../auth/authenticator.js';
import { findCredential } from '../pipeline/credentials.js';
import { lockedOutRefusal } from '../auth/lockedOut.js';
import { authRefusal } from '../auth/refusals.js';
import { clientIpOf, forwardedHostOf, isHttps } from '../http/clientIp.js';
import type { Principal } from '../pipeline/principal.js';
import { GateError } from '../errors.js';
import { isOwnOrigin } from '../pipeline/originStep.js';
import { isLoopbackHostHeader } from '../pipeline/hostNames.js';

const principals = new WeakMap<Response, Principal>();

export function principalOf(res: Response): Principal | undefined {
  return principals.get(res);
}

/** The caller, known to be signed in by `requireSignedIn`. */
export function callerOf(res: Response): Principal {
  const principal = principals.get(res);
  if (!principal) throw new GateError('unauthorized', 'Sign in first');
  return principal;
}

/**
 * The gate's own pages and API refuse what a browser on another site could send: a foreign Origin,
 * `Sec-Fetch-Site: cross-site` on anything but a navigation, and — when the gate listens on
 * loopback only — a Host that is not a loopback name (a DNS-rebinding page), unless a trusted proxy named the
 * host the browser addressed (see pipeline/originStep.ts).
 */
export function browserGuard(loopbackOnly: () => boolean): RequestHandler {
  return function browserGuard(req: Request, _res: Response, next: NextFunction) {
    const forwardedHost = forwardedHostOf(req);
    if (forwardedHost === null && loopbackOnly() && !isLoopbackHostHeader(req.headers.host)) {
      next(
        new GateError(
          'forbidden_origin',
          'This gate only answers to localhost names; the Host header names another site'
        )
      );
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !isOwnOrigin(origin, forwardedHost ?? req.headers.host, isHttps(req))) {
      next(new GateError('forbidden_origin', 'Requests from another origin are refused'));
      return;
    }
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site' && req.headers['sec-fetch-mode'] !== 'navigate') {
      next(new GateError('forbidden_origin', 'Cross-site requests are refused'));
      return;
    }
    next();
  };
}

/** Everything of the gate's own, the sign-in page included, is refused to a locked-out address. */
export function refuseLockedOut(authenticator: Authenticator): RequestHandler {
  return function refuseLockedOut(req: Request, _res: Response, next: NextFunction) {
    const now = Date.now();
    const lock = authenticator.lockedOut(clientIpOf(req), now);
    next(lock ? lockedOutRefusal(lock, req, now) : undefined);
  };
}

/** Reads the credential like the proxy does; a present but wrong one is a 401, absent is anonymous. */
export function identify(authenticator: Authenticator, recordUse?: (keyId: string) => void): RequestHandler {
  return function identify(req: Request, res: Response, next: NextFunction) {
    const credential = findCredential(req);
    if (!credential) {
      next();
      return;
    }
    const outcome = authenticator.authenticate(credential, clientIpOf(req));
    if (!outcome.ok) {
      next(authRefusal(outcome));
      return;
    }
    principals.set(res, outcome.principal);
    recordUse?.(outcome.principal.keyId);
    next();
  };
}

export function requireSignedIn(_req: Request, res: Response, next: NextFunction): void {
  if (principals.has(res)) next();
  else
    next(new GateError('unauthorized', 'An API key is required', { 'www-authenticate': 'Bearer realm="ComfyGate"' }));
}

export function requireAdmin(_req: Request, res: Response, next: NextFunction): void {
  const principal = principals.get(res);
  if (!principal) {
    next(new GateError('unauthorized', 'An admin key is required', { 'www-authenticate': 'Bearer realm="ComfyGate"' }));
  } else if (principal.role !== 'admin') {
    next(new GateError('forbidden', `This needs the admin role; the key "${principal.name}" is ${principal.role}`));
  } else {
    next();
  }
}

/**
 * A cookie rides along on cross-site form posts; a JSON body cannot be sent cross-site without a
 * CORS preflight the gate never grants. So cookie-authenticated changes must be JSON. Requests that
 * carry the key in a header cannot be forged by another site at all.
 */
export function requireJsonForCookieAuth(req: Request, res: Response, next: NextFunction): void {
  const changes = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS';
  if (changes && principals.get(res)?.via === 'cookie' && !req.is('application/json')) {
    next(new GateError('bad_request', 'Send changes as Content-Type: application/json'));
    return;
  }
  next();
}

/** The `authenticate` dependency built from the gate's authenticator, reading credentials like the proxy does. */
export function authenticateWith(
  authenticator: Pick<Authenticator, 'authenticate'>
): (req: Request) => Principal | undefined {
  return (req) => {
    const credential = findCredential(req);
    if (!credential) return undefined;
    // With the client's address, so wrong keys sent here count towards that address's lockout too.
    const outcome = authenticator.authenticate(credential, clientIpOf(req));
    return outcome.ok ? outcome.principal : undefined;
  };
}
