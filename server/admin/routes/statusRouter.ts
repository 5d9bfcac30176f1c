import { Router } from 'express';
import { isLoopbackBind } from '../../pipeline/hostNames.js';
import type { KeyStore } from '../../keys/keyStore.js';
import type { BackendStatus } from '../../backends/backendStatus.js';
import type { ShareAddress } from '../../net/shareAddress.js';
import type { ReplicaStatus } from '../../redis/replicaStatus.js';
import type { TlsSummary } from '../../tls/tlsSummary.js';
import type { Upstream } from '../../upstream/upstream.js';
import type { SettingsStore } from '../../settings/settingsStore.js';
import { localDate, type UsageAggregator } from '../../usage/usageAggregator.js';

export interface StatusSources {
  upstream: Upstream;
  keys: KeyStore;
  settings: SettingsStore;
  usage: UsageAggregator;
  listen: { host: string; port: number };
  share: () => ShareAddress;
  /** The sharing switch's position: on the network, or this computer only. */
  network: () => boolean;
  tls: TlsSummary | null;
  openSockets: () => number;
  /** Each ComfyUI backend's health (one entry when there is one backend). */
  backends: () => Promise<BackendStatus[]>;
  /** With Redis: the gate replicas sharing it (rejects while Redis does not answer). */
  replicas?: () => Promise<ReplicaStatus[]>;
}

/** A teammate counts as active when their key was used this recently. */
const ACTIVE_WINDOW_MS = 5 * 60_000;

interface ComfyInfo {
  version: string | null;
  queueRemaining: number | null;
}

/** /gate/api/status: what the tray and the dashboard's overview show (admin only). */
export function statusRouter({
  upstream,
  keys,
  settings,
  usage,
  listen,
  share,
  network,
  tls,
  openSockets,
  backends,
  replicas,
}: StatusSources): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const all = keys.list();
    const now = Date.now();
    const [reachable, backendList, replicaList] = await Promise.all([
      upstream.check(),
      backends(),
      replicas?.().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
    ]);
    const mode = settings.current.mode;
    const today = localDate(now);
    const warnings: string[] = [];
    if (!isLoopbackBind(listen.host) && mode === 'off') {
      warnings.push(
        `The gate listens on ${listen.host} (your network) with protection off: anyone who can reach it can use ComfyUI.`
      );
    }
    if (backendList.length > 1) {
      for (const backend of backendList) {
        if (!backend.reachable) warnings.push(`ComfyUI backend ${backend.label} is not reachable at ${backend.url}.`);
      }
    } else if (!reachable) warnings.push(`ComfyUI is not reachable at ${upstream.url}.`);
    if (replicaList instanceof Error) warnings.push(replicaList.message);
    else if (replicaList?.some((replica) => !replica.live)) {
      const gone = replicaList.filter((replica) => !replica.live).map((replica) => `${replica.host} (${replica.pid})`);
      warnings.push(
        `Gate replica${gone.length > 1 ? 's' : ''} ${gone.join(', ')} stopped beating; changes no longer wait for ${gone.length > 1 ? 'them' : 'it'}.`
      );
    }
    res.set('cache-control', 'no-store').json({
      upstream: {
        url: backendList.length > 1 ? backendList.map((backend) => backend.url).join(', ') : upstream.url,
        reachable,
        ...(reachable ? await comfyInfo(upstream) : { version: null, queueRemaining: null }),
      },
      mode,
      listen,
      network: network(),
      share: share(),
      tls,
      keys: {
        total: all.length,
        active: all.filter((k) => k.active && (k.expiresAt === null || Date.parse(k.expiresAt) > now)).length,
        usedRecently: all.filter((k) => k.lastUsedAt !== null && now - Date.parse(k.lastUsedAt) < ACTIVE_WINDOW_MS)
          .length,
      },
      today: usage.query({ from: today, to: today }).totals,
      openSockets: openSockets(),
      backends: backendList,
      ...(replicas ? { replicas: replicaList instanceof Error ? [] : (replicaList ?? []) } : {}),
      warnings,
    });
  });
  return router;
}

async function comfyInfo(upstream: Upstream): Promise<ComfyInfo> {
  const get = async (path: string): Promise<unknown> => {
    try {
      const res = await upstream.pool.request({ path, method: 'GET', headersTimeout: 2_000, bodyTimeout: 2_000 });
      return res.statusCode === 200 ? await res.body.json() : (await res.body.dump(), undefined);
    } catch {
      return undefined;
    }
  };
  const [stats, prompt] = await Promise.all([get('/system_stats'), get('/prompt')]);
  const version = (stats as { system?: { comfyui_version?: unknown } } | undefined)?.system?.comfyui_version;
  const remaining = (prompt as { exec_info?: { queue_remaining?: unknown } } | undefined)?.exec_info?.queue_remaining;
  return {
    version: typeof version === 'string' ? version : null,
    queueRemaining: typeof remaining === 'number' ? remaining : null,
  };
}
