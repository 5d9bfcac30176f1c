import { Router } from 'express';
import { createKeyInputSchema, updateKeyInputSchema } from '../../keys/keySchema.js';
import { applyKeyDefaults } from '../../keys/keyPresets.js';
import type { KeyStore } from '../../keys/keyStore.js';
import type { SettingsStore } from '../../settings/settingsStore.js';
import { parseInput } from '../validate.js';

/** /gate/api/keys: the admin's key management (role admin is checked before this router). */
export function keysRouter(keys: KeyStore, settings: SettingsStore): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const input = parseInput(createKeyInputSchema, applyKeyDefaults(req.body, settings.current.defaultLimits));
    const { key, record } = await keys.create(input);
    res
      .status(201)
      .location(`/gate/api/keys/${record.id}`)
      .json({ key, ...record });
  });

  router.get('/', (_req, res) => {
    res.json(keys.list());
  });

  router.get('/:id', (req, res) => {
    const record = keys.require(req.params.id);
    res.json({ ...record, usage: { lastUsedAt: record.lastUsedAt } });
  });

  router.patch('/:id', async (req, res) => {
    const patch = parseInput(updateKeyInputSchema, req.body);
    res.json(await keys.update(req.params.id, patch));
  });

  router.post('/:id/rotate', async (req, res) => {
    const { key, record } = await keys.rotate(req.params.id);
    res.json({ key, ...record });
  });

  router.delete('/:id', async (req, res) => {
    await keys.delete(req.params.id);
    res.status(204).end();
  });

  return router;
}
