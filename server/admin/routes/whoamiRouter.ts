import { Router } from 'express';
import { LEGACY_KEY_ID } from '../../auth/principal.js';
import type { KeyStore } from '../../keys/keyStore.js';
import { effectiveShareLimits } from '../../limits/shareLimits.js';
import type { SettingsStore } from '../../settings/settingsStore.js';
import { callerOf } from '../adminGuards.js';

/**
 * /gate/api/whoami: any signed-in caller sees their own key record (never another's), and the GPU
 * seconds per day that apply to them (`gpuQuotaSeconds`: the key's own, else its role's default; null for none).
 */
export function whoamiRouter(keys: KeyStore, settings: SettingsStore): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    const principal = callerOf(res);
    const gpuQuotaSeconds = effectiveShareLimits(principal, settings.current).gpuSecondsPerDay;
    if (principal.keyId === LEGACY_KEY_ID) {
      res.json({
        id: LEGACY_KEY_ID,
        name: principal.name,
        role: principal.role,
        legacy: true,
        via: principal.via,
        gpuQuotaSeconds,
      });
      return;
    }
    res.json({ ...keys.require(principal.keyId), via: principal.via, gpuQuotaSeconds });
  });
  return router;
}
