import { Router } from 'express';
import { LEGACY_KEY_ID } from '../../auth/principal.js';
import { clearedSessionCookie } from '../../auth/sessionCookie.js';
import { GateError } from '../../errors.js';
import { isHttps } from '../../http/clientIp.js';
import type { KeyStore } from '../../keys/keyStore.js';
import { callerOf } from '../adminGuards.js';
import type { Audit } from '../auditOf.js';

/**
 * POST /gate/api/sessions/revoke: a teammate signs out all of their own sessions and access tokens (a lost laptop, a
 * token pasted somewhere), without waiting for the admin. Their key keeps working.
 */
export function sessionsRouter(keys: KeyStore, audit: Audit): Router {
  const router = Router();
  router.post('/revoke', async (req, res) => {
    const caller = callerOf(res);
    if (caller.keyId === LEGACY_KEY_ID) {
      throw new GateError('bad_request', 'COMFYGATE_API_KEY has no sessions; sessions belong to keys from keys.json');
    }
    const record = await keys.endSessions(caller.keyId);
    audit(req, res, 'key.sessions_ended', record.id, { self: true });
    res.set('cache-control', 'no-store').setHeader('set-cookie', clearedSessionCookie(isHttps(req)));
    res.status(204).end();
  });
  return router;
}
