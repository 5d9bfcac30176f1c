import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Authenticator } from '../../auth/authenticator.js';
import { keyVersion } from '../../auth/authenticator.js';
import { clearedSessionCookie, SESSION_TTL_SECONDS, sessionCookie } from '../../auth/sessionCookie.js';
import type { SessionTokens } from '../../auth/sessionTokens.js';
import type { TokenClaims } from '../../pipeline/principal.js';
import { GateError } from '../../errors.js';
import type { KeyStore } from '../../keys/keyStore.js';
import type { AuditLog } from '../../logs/auditLog.js';
import { findCredential } from '../../pipeline/credentials.js';
import { LEGACY_KEY_ID } from '../../auth/principal.js';
import { lockedOutRefusal, PAGE_HEADERS } from '../../auth/lockedOut.js';
import { authRefusal } from '../../auth/refusals.js';
import { parseSignInReason, type SignInReason } from '../../pages/signInReasons.js';
import { clientIpOf, isHttps } from '../../http/clientIp.js';
import { renderLoginPage, type LoginPageOptions } from '../../pages/loginPage.js';
import { safeNext } from '../../pages/safeNext.js';
import { parseInput } from '../validate.js';

export interface LoginDeps {
  authenticator: Authenticator;
  tokens: SessionTokens;
  keys: KeyStore;
  /** Closes the WebSockets opened under a session that just logged out. */
  endSession: (claims: TokenClaims) => void;
  audit: AuditLog;
  /** Under HTTPS, the certificate's SHA-256 fingerprint, shown so a teammate can check the connection. */
  fingerprint256: string | null;
}

const loginBodySchema = z.object({
  key: z.string().trim().min(1, 'paste your API key').max(512),
  next: z.string().optional(),
});

/** /gate/login and /gate/logout: a key in, an HttpOnly session cookie out. */
export function loginRouter({ authenticator, tokens, keys, endSession, audit, fingerprint256 }: LoginDeps): Router {
  const sendPage = (res: Response, status: number, next: string, error?: string, reason?: SignInReason): void =>
    sendLoginPage(res, status, { next, error, reason, fingerprint256 });
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '8kb' });
  const json = express.json({ limit: '8kb' });

  router.get('/login', (req, res) => {
    sendPage(res, 200, safeNext(req.query['next']), undefined, parseSignInReason(req.query['reason']));
  });

  router.post('/login', form, json, (req, res) => {
    const wantsJson = !req.is('application/x-www-form-urlencoded');
    const rawNext = (req.body as { next?: unknown } | undefined)?.next;
    const next = safeNext(rawNext);
    let key: string;
    try {
      key = parseInput(loginBodySchema, req.body).key;
    } catch (error) {
      if (wantsJson) throw error;
      sendPage(res, 400, next, 'Paste your API key to sign in.');
      return;
    }
    const clientIp = clientIpOf(req);
    const outcome = authenticator.authenticate({ source: 'header', value: key }, clientIp);
    if (!outcome.ok) {
      audit.record({ action: 'login.failed', actorKeyId: null, clientIp, details: { reason: outcome.message } });
      // The failure that locks the address already answers like the lock: the page says when to try again.
      const now = Date.now();
      const lock = authenticator.lockedOut(clientIp, now);
      if (lock) throw lockedOutRefusal(lock, req, now);
      const refusal = authRefusal(outcome);
      if (wantsJson) throw refusal;
      sendPage(res, refusal.status, next, outcome.message, outcome.reason);
      return;
    }
    if (outcome.principal.keyId === LEGACY_KEY_ID) {
      const message = 'Sign in with a key from keys.json, not COMFYGATE_API_KEY';
      if (wantsJson) throw new GateError('unauthorized', message);
      sendPage(res, 401, next, message);
      return;
    }
    const record = keys.require(outcome.principal.keyId);
    const { token, claims } = tokens.sign('session', record.id, keyVersion(record), SESSION_TTL_SECONDS);
    audit.record({ action: 'login', actorKeyId: record.id, clientIp, target: record.id });
    res.setHeader('set-cookie', sessionCookie(token, SESSION_TTL_SECONDS, isHttps(req)));
    res.setHeader('cache-control', 'no-store');
    if (wantsJson) {
      res.json({
        id: record.id,
        name: record.name,
        role: record.role,
        expiresAt: new Date(claims.exp * 1000).toISOString(),
      });
    } else {
      res.redirect(303, next);
    }
  });

  // Works with an expired or broken cookie too: signing out must never fail. The sign-out is on disk before the
  // answer, so a copy of the cookie stays worthless after a restart.
  router.post('/logout', async (req: Request, res: Response) => {
    const credential = findCredential(req);
    const session = credential?.source === 'cookie' ? tokens.verify(credential.value) : undefined;
    res.setHeader('set-cookie', clearedSessionCookie(isHttps(req)));
    if (session?.kind === 'session') {
      endSession(session);
      await tokens.revoke(session).catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        throw new GateError(
          'internal',
          `Signed out, but the sign-out could not be saved (${reason}); it holds until the gate restarts`
        );
      });
      audit.record({ action: 'logout', actorKeyId: session.keyId, clientIp: clientIpOf(req), target: session.keyId });
    }
    res.setHeader('cache-control', 'no-store');
    if (req.is('application/json') || req.accepts(['html', 'json']) === 'json') res.status(204).end();
    else res.redirect(303, '/gate/login');
  });

  return router;
}

function sendLoginPage(res: Response, status: number, options: LoginPageOptions): void {
  res
    .status(status)
    .set({ ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' })
    .send(renderLoginPage(options));
}
