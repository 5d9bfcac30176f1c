import { hostname } from 'node:os';
import { z } from 'zod';
import type { RedisClient } from './redisLink.js';

const REPLICAS_KEY = 'comfygate:replicas';
/** A replica that has not beaten for this long is taken for gone: no change waits for it. */
export const LIVE_WINDOW_MS = 10_000;
/** Entries of replicas gone this long are removed from the registry. */
const FORGET_AFTER_MS = 3_600_000;

export const replicaSchema = z.object({
  id: z.string().min(1).max(100),
  url: z.string().max(2000),
  host: z.string().max(300),
  pid: z.number().int(),
  version: z.string().max(100),
  startedAt: z.string().max(40),
  /** Last heartbeat (ms since the epoch). */
  beatAt: z.number(),
});

export type Replica = z.infer<typeof replicaSchema>;
export interface ReplicaReport extends Replica {
  live: boolean;
}

/** This gate as the registry lists it. */
export function describeReplica(id: string, url: string, version: string): Omit<Replica, 'beatAt'> {
  return { id, url, host: hostname(), pid: process.pid, version, startedAt: new Date().toISOString() };
}

/** The gate replicas sharing one Redis: one hash field per replica, refreshed by its heartbeat. */
export class ReplicaRegistry {
  constructor(private readonly commands: RedisClient) {}

  async beat(self: Omit<Replica, 'beatAt'>, now = Date.now()): Promise<void> {
    await this.commands.hSet(REPLICAS_KEY, self.id, JSON.stringify({ ...self, beatAt: now }));
  }

  async leave(id: string): Promise<void> {
    await this.commands.hDel(REPLICAS_KEY, id);
  }

  /** Every replica heard of in the last hour, live or not; older entries are dropped on the way. */
  async list(now = Date.now()): Promise<ReplicaReport[]> {
    const all = await this.commands.hGetAll(REPLICAS_KEY);
    const replicas: ReplicaReport[] = [];
    const gone: string[] = [];
    for (const [id, text] of Object.entries(all)) {
      const parsed = replicaSchema.safeParse(safeJson(text));
      if (!parsed.success || now - parsed.data.beatAt > FORGET_AFTER_MS) {
        gone.push(id);
        continue;
      }
      replicas.push({ ...parsed.data, live: now - parsed.data.beatAt <= LIVE_WINDOW_MS });
    }
    if (gone.length > 0) await this.commands.hDel(REPLICAS_KEY, gone);
    return replicas.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  async liveIds(now = Date.now()): Promise<Set<string>> {
    return new Set((await this.list(now)).filter((replica) => replica.live).map((replica) => replica.id));
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
