import { Router } from 'express';
import { z } from 'zod';
import type { GateConfig } from '../../config/schema.js';
import { probeComfyUI } from '../../upstream/upstream.js';
import { settingsPatchSchema, startupPatchSchema, startupSettingsSchema } from '../../settings/settingsSchema.js';
import type { SettingsStore } from '../../settings/settingsStore.js';
import type { Audit } from '../auditOf.js';
import { parseInput } from '../validate.js';

export interface SettingsRouterDeps {
  settings: SettingsStore;
  /** What the gate runs with now; start-up settings saved later apply at the next start. */
  running: () => Pick<GateConfig, 'host' | 'port' | 'https'> & { upstream: string };
  audit: Audit;
}

const testUpstreamSchema = z.object({ url: startupSettingsSchema.shape.upstream }).strict();

/** /gate/api/settings: what the operator changes while the gate runs (admin only). */
export function settingsRouter({ settings, running, audit }: SettingsRouterDeps): Router {
  const router = Router();

  router.get('/', (_req, res) => {
    res.json(settings.current);
  });

  router.patch('/', async (req, res) => {
    const patch = parseInput(settingsPatchSchema, req.body);
    const before = settings.current.mode;
    const updated = await settings.update(patch);
    const { metricsToken, ...shown } = patch;
    audit(req, res, 'settings.updated', undefined, {
      ...shown,
      ...(metricsToken !== undefined ? { metricsToken: '(changed)' } : {}),
    });
    if (updated.mode !== before) audit(req, res, 'mode.changed', undefined, { from: before, to: updated.mode });
    res.json(updated);
  });

  router.get('/startup', (_req, res) => {
    res.json(startupReport(settings, running()));
  });

  router.patch('/startup', async (req, res) => {
    const patch = parseInput(startupPatchSchema, req.body);
    await settings.updateStartup(patch);
    audit(req, res, 'settings.updated', 'startup', patch);
    res.json(startupReport(settings, running()));
  });

  router.post('/test-upstream', async (req, res) => {
    const { url } = parseInput(testUpstreamSchema, req.body);
    res.json({ url, reachable: await probeComfyUI(url) });
  });

  return router;
}

function startupReport(settings: SettingsStore, running: ReturnType<SettingsRouterDeps['running']>) {
  const saved = settings.startup;
  const restartNeeded =
    (saved.upstream !== undefined && saved.upstream !== running.upstream) ||
    (saved.upstreams !== undefined && saved.upstreams.map((backend) => backend.url).join(', ') !== running.upstream) ||
    (saved.host !== undefined && saved.host !== running.host) ||
    (saved.port !== undefined && saved.port !== running.port) ||
    (saved.https !== undefined && saved.https !== running.https);
  return { running, saved, restartNeeded };
}
