import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { BackendSpec } from '../config/schema.js';
import type { BackendStatus } from './backendStatus.js';
import type { NodeCatalog } from './placement.js';

export interface BackendEvents {
  /** Reachability changed: true when it answers again, false when it stopped answering. */
  reachability: [reachable: boolean];
}

export interface BackendAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const PROBE_TIMEOUT_MS = 2_000;
/** Node classes and model lists change only with custom nodes or new files; refetched this often. */
const CATALOG_MAX_AGE_MS = 60_000;

/**
 * One ComfyUI of several: its pooled client, what its last health check saw (reachable, GPUs, queue) and
 * its node catalog (`/object_info`) for placement. The health check is the only thing that marks it down
 * or up again, so every part of the gate agrees on one answer.
 */
export class Backend extends EventEmitter<BackendEvents> {
  readonly url: string;
  readonly label: string;
  readonly weight: number;
  readonly pool: Pool;
  #reachable: boolean | undefined;
  #devices: string[] = [];
  #version: string | null = null;
  #runningIds: string[] = [];
  #pendingIds: string[] = [];
  #checkedAt: number | null = null;
  /** Prompts placed here since the last look at its queue, so a burst does not all land on one backend. */
  #placedSinceCheck = 0;
  #catalog: NodeCatalog | undefined;
  #catalogAt = 0;
  #checking: Promise<boolean> | undefined;

  constructor(spec: BackendSpec, index: number, connectTimeoutMs: number) {
    super();
    this.url = spec.url;
    this.label = spec.label ?? `backend ${index + 1}`;
    this.weight = spec.weight ?? 1;
    this.pool = new Pool(spec.url, {
      connections: 64,
      connect: { timeout: connectTimeoutMs },
      keepAliveTimeout: 4_000,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  get reachable(): boolean {
    return this.#reachable === true;
  }

  get runningIds(): readonly string[] {
    return this.#runningIds;
  }

  get pendingIds(): readonly string[] {
    return this.#pendingIds;
  }

  get catalog(): NodeCatalog | undefined {
    return this.#catalog;
  }

  /**
   * When a new prompt would finish here, in units of work per weight: the prompts ahead of it plus itself, so
   * among idle backends the heavier one (the bigger GPU) is chosen first.
   */
  get load(): number {
    return (this.#runningIds.length + this.#pendingIds.length + this.#placedSinceCheck + 1) / this.weight;
  }

  notePlaced(): void {
    this.#placedSinceCheck++;
  }

  /** The node catalog as a passing `/object_info` answer showed it. */
  noteCatalog(catalog: NodeCatalog): void {
    this.#catalog = catalog;
    this.#catalogAt = Date.now();
  }

  status(): BackendStatus {
    return {
      url: this.url,
      label: this.label,
      weight: this.weight,
      reachable: this.reachable,
      version: this.#version,
      devices: [...this.#devices],
      running: this.#runningIds.length,
      pending: this.#pendingIds.length,
      checkedAt: this.#checkedAt === null ? null : new Date(this.#checkedAt).toISOString(),
    };
  }

  /** Asks `/system_stats` and `/queue`; one check at a time, however many callers ask. */
  check(): Promise<boolean> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<boolean> {
    const [stats, queue] = await Promise.all([this.getJson('/system_stats'), this.getJson('/queue')]);
    const reachable = isObject(stats) && isObject(stats['system']) && isObject(queue);
    this.#checkedAt = Date.now();
    if (reachable) {
      const system = stats['system'] as Record<string, unknown>;
      this.#version = typeof system['comfyui_version'] === 'string' ? system['comfyui_version'] : null;
      this.#devices = Array.isArray(stats['devices'])
        ? stats['devices'].flatMap((device) =>
            isObject(device) && typeof device['name'] === 'string' ? [device['name']] : []
          )
        : [];
      this.#runningIds = promptIdsOf(queue['queue_running']);
      this.#pendingIds = promptIdsOf(queue['queue_pending']);
      this.#placedSinceCheck = 0;
      if (this.#catalog === undefined || Date.now() - this.#catalogAt > CATALOG_MAX_AGE_MS) await this.#loadCatalog();
    } else {
      this.#runningIds = [];
      this.#pendingIds = [];
    }
    if (this.#reachable !== reachable) {
      this.#reachable = reachable;
      this.emit('reachability', reachable);
    }
    return reachable;
  }

  async #loadCatalog(): Promise<void> {
    const info = await this.getJson('/object_info', 30_000);
    if (info !== undefined) this.noteCatalog(info);
  }

  /** One request (its body whole, or streamed), its whole answer read; throws when the backend cannot be reached. */
  async send(
    method: string,
    path: string,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer | Readable | undefined,
    timeoutMs: number
  ): Promise<BackendAnswer> {
    const res = await this.pool.request({
      path,
      method,
      headers,
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of res.body) chunks.push(chunk as Buffer);
    return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
  }

  /** A GET's JSON answer, or undefined when it did not come. */
  async getJson(path: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<Record<string, unknown> | undefined> {
    try {
      const answer = await this.send('GET', path, {}, undefined, timeoutMs);
      if (answer.status !== 200) return undefined;
      const parsed: unknown = JSON.parse(answer.body.toString('utf8'));
      return isObject(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The prompt ids of `/queue` items (`[number, prompt_id, prompt, extra_data, outputs]`). */
function promptIdsOf(items: unknown): string[] {
  if (!Array.isArray(items)) return [];
  return items.flatMap((item) => (Array.isArray(item) && typeof item[1] === 'string' ? [item[1]] : []));
}
