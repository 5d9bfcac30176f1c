import { Router } from 'express';
import { createKeyInputSchema, updateKeyInputSchema } from '../../keys/keySchema.js';
import { applyKeyDefaults } from '../../keys/keyPresets.js';
import type { KeyStore } from '../../keys/keyStore.js';
import type { SettingsStore } from '../../settings/settingsStore.js';
import type { Audit } from '../auditOf.js';
import { parseInput } from '../validate.js';

/** /gate/api/keys: the admin's key management (role admin is checked before this router). */
export function keysRouter(keys: KeyStore, settings: SettingsStore, audit: Audit): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const input = parseInput(createKeyInputSchema, applyKeyDefaults(req.body, settings.current.defaultLimits));
    const { key, record } = await keys.create(input);
    audit(req, res, 'key.created', record.id, { name: record.name, role: record.role });
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
    const record = await keys.update(req.params.id, patch);
    const action = patch.active === false ? 'key.deactivated' : patch.active === true ? 'key.activated' : 'key.updated';
    audit(req, res, action, record.id, { fields: Object.keys(patch) });
    res.json(record);
  });

  router.post('/:id/rotate', async (req, res) => {
    const { key, record } = await keys.rotate(req.params.id);
    audit(req, res, 'key.rotated', record.id);
    res.json({ key, ...record });
  });

  // Sign out everywhere: the key keeps working, every session and access token made with it so far does not.
  router.post('/:id/sessions/revoke', async (req, res) => {
    const record = await keys.endSessions(req.params.id);
    audit(req, res, 'key.sessions_ended', record.id);
    res.json(record);
  });

  router.delete('/:id', async (req, res) => {
    const record = await keys.delete(req.params.id);
    audit(req, res, 'key.deleted', record.id, { name: record.name });
    res.status(204).end();
  });

  return router;
}
