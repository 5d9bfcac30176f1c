import { Router } from 'express';
import type { KeyStore } from '../../keys/keyStore.js';
import type { Upstream } from '../../proxy/upstream.js';
import type { SettingsStore } from '../../settings/settingsStore.js';

export interface StatusSources {
  upstream: Upstream;
  keys: KeyStore;
  settings: SettingsStore;
  openSockets: () => number;
}

/** /gate/api/status: what the tray and the dashboard's overview show (admin only). */
export function statusRouter({ upstream, keys, settings, openSockets }: StatusSources): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const all = keys.list();
    const now = Date.now();
    res.json({
      upstream: { url: upstream.url, reachable: await upstream.check() },
      mode: settings.current.mode,
      keys: {
        total: all.length,
        active: all.filter((k) => k.active && (k.expiresAt === null || Date.parse(k.expiresAt) > now)).length,
      },
      openSockets: openSockets(),
    });
  });
  return router;
}
