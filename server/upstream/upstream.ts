import { EventEmitter } from 'node:events';
import { Pool, request } from 'undici';

export interface UpstreamOptions {
  url: string;
  connectTimeoutMs: number;
}

export interface UpstreamEvents {
  reachability: [reachable: boolean];
}

/** How long a reachability answer is reused, so a busy dashboard does not hammer ComfyUI. */
const HEALTH_CACHE_MS = 1_000;
const PROBE_TIMEOUT_MS = 2_000;

/**
 * ComfyUI as the gate sees it: one pooled keep-alive client (undici measured fastest here) and
 * whether it answered lately. Proxied traffic updates reachability for free; probes fill the gaps.
 */
export class Upstream extends EventEmitter<UpstreamEvents> {
  readonly url: string;
  readonly pool: Pool;
  #reachable: boolean | undefined;
  #checkedAt = 0;
  #pending: Promise<boolean> | undefined;

  constructor({ url, connectTimeoutMs }: UpstreamOptions) {
    super();
    this.url = url;
    this.pool = new Pool(url, {
      connections: 128,
      connect: { timeout: connectTimeoutMs },
      keepAliveTimeout: 4_000,
      // The gate streams whatever ComfyUI sends; per-request timeouts are set on each dispatch.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  get reachable(): boolean | undefined {
    return this.#reachable;
  }

  markReachable(reachable: boolean): void {
    this.#checkedAt = Date.now();
    if (this.#reachable === reachable) return;
    this.#reachable = reachable;
    this.emit('reachability', reachable);
  }

  /** Probes `GET /system_stats` unless an answer younger than a second is known. */
  async check(): Promise<boolean> {
    if (this.#reachable !== undefined && Date.now() - this.#checkedAt < HEALTH_CACHE_MS) return this.#reachable;
    this.#pending ??= probeComfyUI(this.url).then((ok) => {
      this.#pending = undefined;
      this.markReachable(ok);
      return ok;
    });
    return this.#pending;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** True when a ComfyUI answers `/system_stats` with its JSON at this origin. */
export async function probeComfyUI(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  try {
    const res = await request(new URL('/system_stats', url), {
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.body.json().catch(() => undefined)) as { system?: unknown } | undefined;
    return res.statusCode === 200 && typeof body === 'object' && body !== null && 'system' in body;
  } catch {
    return false;
  }
}
