import type { Dispatcher } from 'undici';
import type { BackendSpec } from '../config/schema.js';
import type { BackendStatus } from './backendStatus.js';

const TIMEOUT_MS = 2_000;

/**
 * The one backend of a gate without the backend router, asked on demand (the status page, not the proxy
 * path): the same report the router keeps for each of several.
 */
export async function singleBackendStatus(
  client: Dispatcher,
  url: string,
  spec: BackendSpec | undefined
): Promise<BackendStatus> {
  const get = async (path: string): Promise<Record<string, unknown> | undefined> => {
    try {
      const res = await client.request({ path, method: 'GET', headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
      if (res.statusCode !== 200) {
        await res.body.dump();
        return undefined;
      }
      const value: unknown = await res.body.json();
      return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const [stats, queue] = await Promise.all([get('/system_stats'), get('/queue')]);
  const system = stats?.['system'] as Record<string, unknown> | undefined;
  const devices = Array.isArray(stats?.['devices']) ? (stats['devices'] as unknown[]) : [];
  const count = (key: string): number => {
    const items = queue?.[key];
    return Array.isArray(items) ? items.length : 0;
  };
  return {
    url,
    label: spec?.label ?? 'backend 1',
    weight: spec?.weight ?? 1,
    reachable: system !== undefined && queue !== undefined,
    version: typeof system?.['comfyui_version'] === 'string' ? system['comfyui_version'] : null,
    devices: devices.flatMap((device) => {
      const name = (device as { name?: unknown } | null)?.name;
      return typeof name === 'string' ? [name] : [];
    }),
    running: count('queue_running'),
    pending: count('queue_pending'),
    checkedAt: new Date().toISOString(),
  };
}
