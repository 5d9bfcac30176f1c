import type { IncomingMessage } from 'node:http';
import { GateError } from '../errors.js';
import { matchesPublicPath, normalizePath } from '../pipeline/normalizePath.js';
import type { Exchange } from '../pipeline/exchange.js';
import type { RequestStep } from '../pipeline/steps.js';
import type { KeyStore } from '../keys/keyStore.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import type { Authenticator } from './authenticator.js';
import { findCredential, withoutTokenParam } from '../pipeline/credentials.js';
import { lockedOutRefusal } from './lockedOut.js';
import { authRefusal } from './refusals.js';
import type { SignInReason } from '../pages/signInReasons.js';

const CHALLENGE = 'Bearer realm="ComfyGate"';

/**
 * DESIGN.md "Auth modes" on the hot path. A credential, when present, must be valid in every mode
 * but `off`; without one, `optional` lets the request pass as anonymous and `required` refuses it
 * unless its path is public: browsers navigating to a page are sent to the login page.
 */
export function authStep(authenticator: Authenticator, settings: SettingsStore, keys: KeyStore): RequestStep {
  return function authenticate(exchange: Exchange): GateError | undefined {
    const { mode, publicPaths } = settings.current;
    // A locked address is refused whatever it sends, so it learns nothing and cannot go on guessing.
    if (mode !== 'off') {
      const lock = authenticator.lockedOut(exchange.clientIp, exchange.time);
      if (lock) return lockedOutRefusal(lock, exchange.req, exchange.time);
    }
    const credential = findCredential(exchange.req);
    if (credential) {
      // Mode off is pure pass-through: a credential only names who to count the request for.
      const outcome = authenticator.authenticate(credential, exchange.clientIp);
      if (outcome.ok) {
        exchange.principal = outcome.principal;
        keys.recordUse(outcome.principal.keyId);
        return undefined;
      }
      if (mode === 'off') return undefined;
      // A browser whose session stopped working lands on the sign-in page, which says why and what to do.
      if (credential.source === 'cookie' && outcome.reason !== undefined && isNavigation(exchange.req)) {
        return signInAgain(exchange.req, outcome.message, outcome.reason);
      }
      return authRefusal(outcome);
    }
    if (mode !== 'required') return undefined;
    if (publicPaths.length > 0) {
      const normalized = normalizePath(exchange.req.url ?? '/');
      if (normalized.ok && matchesPublicPath(normalized.path, publicPaths)) return undefined;
    }
    return refuseAnonymous(exchange);
  };
}

function isNavigation(req: IncomingMessage): boolean {
  return req.method === 'GET' && !req.headers.upgrade && (req.headers.accept ?? '').includes('text/html');
}

function signInAgain(req: IncomingMessage, message: string, reason?: SignInReason): GateError {
  const next = encodeURIComponent(withoutTokenParam(req.url ?? '/'));
  return new GateError('login_required', message, {
    location: `/gate/login?next=${next}${reason === undefined ? '' : `&reason=${reason}`}`,
  });
}

function refuseAnonymous(exchange: Exchange): GateError {
  const req = exchange.req;
  if (isNavigation(req)) return signInAgain(req, 'Sign in to use ComfyUI through this gate');
  return new GateError('unauthorized', 'An API key is required: send it as X-API-Key or Authorization: Bearer', {
    'www-authenticate': CHALLENGE,
  });
}
