import { Router } from 'express';
import { settingsPatchSchema } from '../../settings/settingsSchema.js';
import type { SettingsStore } from '../../settings/settingsStore.js';
import { parseInput } from '../validate.js';

/** /gate/api/settings: what the operator changes while the gate runs (admin only). */
export function settingsRouter(settings: SettingsStore): Router {
  const router = Router();

  router.get('/', (_req, res) => {
    res.json(settings.current);
  });

  router.patch('/', async (req, res) => {
    const patch = parseInput(settingsPatchSchema, req.body);
    res.json(await settings.update(patch));
  });

  return router;
}
