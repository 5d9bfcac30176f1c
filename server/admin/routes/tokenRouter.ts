import { Router } from 'express';
import { z } from 'zod';
import { keyVersion } from '../../auth/authenticator.js';
import { LEGACY_KEY_ID } from '../../auth/principal.js';
import type { SessionTokens } from '../../auth/sessionTokens.js';
import { GateError } from '../../errors.js';
import type { KeyStore } from '../../keys/keyStore.js';
import { callerOf } from '../adminGuards.js';
import { parseInput } from '../validate.js';

export const ACCESS_TOKEN_DEFAULT_SECONDS = 15 * 60;

export const tokenRequestSchema = z
  .object({
    /** Lifetime in seconds: 1 minute to 1 day; 15 minutes when left out. */
    ttlSeconds: z.number().int().min(60).max(86_400).optional(),
  })
  .strict();

/**
 * POST /gate/api/token: a short-lived JWT standing in for the caller's key, for URLs that cannot
 * carry a header (`<img src>`, WebSocket) so a long-lived key need not sit in them. It dies with its
 * key: revoking or rotating the key ends it too. Only a key or a session may ask for one.
 */
export function tokenRouter(tokens: SessionTokens, keys: KeyStore): Router {
  const router = Router();
  router.post('/', (req, res) => {
    const caller = callerOf(res);
    const { ttlSeconds = ACCESS_TOKEN_DEFAULT_SECONDS } = parseInput(tokenRequestSchema, req.body);
    if (caller.keyId === LEGACY_KEY_ID) {
      throw new GateError('bad_request', 'COMFYGATE_API_KEY cannot mint tokens; use a key from keys.json');
    }
    // Otherwise a leaked 15-minute token could renew itself into a day-long one, again and again.
    if (caller.token?.kind === 'access') {
      throw new GateError(
        'forbidden',
        'An access token cannot mint tokens; ask with your API key or from a signed-in browser'
      );
    }
    const record = keys.require(caller.keyId);
    const { token, claims } = tokens.sign('access', record.id, keyVersion(record), ttlSeconds);
    res.set('cache-control', 'no-store').json({ token, expiresAt: new Date(claims.exp * 1000).toISOString() });
  });
  return router;
}
