import { Router } from 'express';
import { LEGACY_KEY_ID } from '../../auth/principal.js';
import type { KeyStore } from '../../keys/keyStore.js';
import { callerOf } from '../adminGuards.js';

/** /gate/api/whoami: any signed-in caller sees their own key record (never another's). */
export function whoamiRouter(keys: KeyStore): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    const principal = callerOf(res);
    if (principal.keyId === LEGACY_KEY_ID) {
      res.json({ id: LEGACY_KEY_ID, name: principal.name, role: principal.role, legacy: true, via: principal.via });
      return;
    }
    res.json({ ...keys.require(principal.keyId), via: principal.via });
  });
  return router;
}
