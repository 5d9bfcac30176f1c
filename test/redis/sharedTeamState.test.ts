import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopProcess, waitForLine } from '../helpers/cli.js';
import { withCliFixture } from '../helpers/cliFixture.js';
import { spawnRedisGate, type RedisGate } from '../helpers/redisGate.js';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { startRedisServer, type RedisServer } from '../helpers/redisServer.js';
import { RecordingSocket } from '../helpers/wsClient.js';

/**
 * Two real gate processes (`serve --redis`) sharing one real redis-server in front of one fake ComfyUI, as teammates
 * see them: a prompt queued through one gate is its owner's on the other, and usage, GPU time and queue slots add up.
 */
const fixture = withCliFixture('redis-team', { nodeDelayMs: 300 });
let redis: RedisServer;
const gates: RedisGate[] = [];
let adminKey: string;
let alice: string;
let bob: string;
const sockets: RecordingSocket[] = [];

type Gate = 0 | 1;
type QueueTuple = [number, string, unknown, Record<string, unknown>, string[]];
interface HistoryEntry {
  status: { messages: Array<[string, Record<string, unknown>]> };
  outputs: Record<string, { images?: Array<{ filename: string }> }>;
}

async function startGate(): Promise<RedisGate> {
  const gate = await spawnRedisGate(await fixture.freshDir(), redis.url, [fixture.fake.url]);
  gates.push(gate);
  return gate;
}

function as<T = unknown>(gate: Gate, key: string, path: string, json?: unknown) {
  return call<T>(`${gates[gate]!.url}${path}`, { headers: { 'x-api-key': key }, json });
}

async function createKey(name: string, role: string, limits?: object): Promise<{ id: string; key: string }> {
  const res = await as<{ id: string; key: string }>(0, adminKey, '/gate/api/keys', {
    name,
    role,
    ...(limits ? { limits } : {}),
  });
  expect(res.status).toBe(201);
  return res.body;
}

async function queuePrompt(gate: Gate, key: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await as<{ prompt_id: string }>(gate, key, '/api/prompt', { prompt: SMALL_PROMPT, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.prompt_id;
}

/** ComfyUI's own history entry (straight from the fake, past both gates). */
async function finished(promptId: string): Promise<HistoryEntry> {
  for (let i = 0; i < 300; i++) {
    const history = await call<Record<string, HistoryEntry>>(`${fixture.fake.url}/history/${promptId}`);
    const entry = history.body[promptId];
    if (entry) return entry;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`prompt ${promptId} never finished`);
}

async function runningNow(promptId: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const queue = await call<{ queue_running: QueueTuple[] }>(`${fixture.fake.url}/queue`);
    if (queue.body.queue_running.some((item) => item[1] === promptId)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`prompt ${promptId} never started`);
}

async function view(gate: Gate, key: string, filename: string): Promise<number> {
  const res = await request(`${gates[gate]!.url}/api/view?filename=${filename}&type=output&subfolder=`, {
    headers: { 'x-api-key': key },
  });
  await res.body.dump();
  return res.statusCode;
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface UsageAnswer {
  days: Array<{ keyId: string; requests: number; gpuSeconds: number }>;
}
async function usageOf(gate: Gate, keyId: string): Promise<{ requests: number; gpuSeconds: number }> {
  const res = await as<UsageAnswer>(gate, adminKey, '/gate/api/usage/all');
  expect(res.status).toBe(200);
  const rows = res.body.days.filter((row) => row.keyId === keyId);
  return {
    requests: rows.reduce((sum, row) => sum + row.requests, 0),
    gpuSeconds: rows.reduce((sum, row) => sum + row.gpuSeconds, 0),
  };
}

beforeAll(async () => {
  redis = await startRedisServer();
  const first = await startGate();
  adminKey = (await waitForLine(first.child, /^\s+cgk_/)).trim();
  await startGate();
  alice = (await createKey('alice', 'creator')).key;
  bob = (await createKey('bob', 'creator')).key;
}, 60_000);

afterAll(async () => {
  await Promise.all(sockets.splice(0).map((socket) => socket.close()));
  await Promise.all(gates.map((gate) => stopProcess(gate.child)));
  await redis?.stop();
});

describe('prompt and output ownership across gates', () => {
  it("a prompt queued through gate 1 is its owner's on gate 2: frames, interrupt, outputs; never another's", async () => {
    const alices = await RecordingSocket.open(`${gates[1]!.url.replace('http', 'ws')}/ws?clientId=alice-tab`, {
      headers: { 'x-api-key': alice },
    });
    sockets.push(alices);
    const done = await queuePrompt(0, alice, { client_id: 'alice-tab' });
    const entry = await finished(done);
    const filename = entry.outputs['2']?.images?.[0]?.filename;
    expect(filename).toBeDefined();
    // Before any history read on gate 2 (which would teach it the outputs), its /view knows them as Alice's.
    expect(await view(1, bob, filename!)).toBe(404);
    expect(await view(1, alice, filename!)).toBe(200);
    expect(await view(0, bob, filename!)).toBe(404);
    expect(
      await until(
        () => alices.received.some((m) => m.data.includes(done) && m.data.includes('execution_success')),
        2_000
      )
    ).toBe(true);

    const history = await as<Record<string, HistoryEntry>>(1, alice, `/api/history/${done}`);
    expect(Object.keys(history.body)).toEqual([done]);
    expect((await as<Record<string, unknown>>(1, bob, `/api/history/${done}`)).body).toEqual({});

    const running = await queuePrompt(0, alice);
    await runningNow(running);
    const refused = await as<{ error: { code: string } }>(1, bob, '/api/interrupt', { prompt_id: running });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('not_your_prompt');
    expect((await as(1, alice, '/api/interrupt', { prompt_id: running })).status).toBe(200);
    const interrupted = await finished(running);
    expect(interrupted.status.messages.map(([type]) => type)).toContain('execution_interrupted');
  }, 30_000);
});

describe('usage, GPU time and queued prompts across gates', () => {
  it("the dashboard's usage on either gate is the sum of both", async () => {
    const { id, key } = await createKey('counted', 'creator');
    for (const gate of [0, 0, 0, 1, 1] as const) expect((await as(gate, key, '/api/queue')).status).toBe(200);
    for (const gate of [0, 1] as const) {
      expect(await until(async () => (await usageOf(gate, id)).requests === 5, 20_000)).toBe(true);
    }
  }, 30_000);

  it('GPU seconds measured by either gate count against one daily GPU quota', async () => {
    const { id, key } = await createKey('gpu bound', 'creator', { gpuSecondsPerDay: 1 });
    await finished(await queuePrompt(0, key));
    await finished(await queuePrompt(1, key));
    // Both measured (each by the gate that queued it) once every gate's usage shows both.
    expect(await until(async () => (await usageOf(0, id)).gpuSeconds >= 1, 20_000)).toBe(true);
    for (const gate of [0, 1] as const) {
      const refused = await as<{ error: { code: string } }>(gate, key, '/api/prompt', { prompt: SMALL_PROMPT });
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('gpu_quota');
    }
  }, 30_000);

  it('a prompt queued through one gate holds a maxQueued slot on the other', async () => {
    const { key } = await createKey('one at a time', 'creator', { maxQueued: 1 });
    const first = await queuePrompt(0, key);
    const refused = await as<{ error: { code: string } }>(1, key, '/api/prompt', { prompt: SMALL_PROMPT });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('queue_limit');
    await finished(first);
    await queuePrompt(1, key);
  }, 30_000);
});

describe('the replicas in the status API', () => {
  interface StatusAnswer {
    replicas?: Array<{
      id: string;
      url: string;
      host: string;
      pid: number;
      startedAt: string;
      live: boolean;
      self: boolean;
    }>;
  }

  it('lists both gates, live, each marking itself, and the OpenAPI document describes them', async () => {
    for (const gate of [0, 1] as const) {
      const res = await as<StatusAnswer>(gate, adminKey, '/gate/api/status');
      expect(res.status).toBe(200);
      const replicas = res.body.replicas ?? [];
      expect(replicas.map((replica) => replica.pid).sort()).toEqual(gates.map((g) => g.child.pid).sort());
      expect(
        replicas.every((replica) => replica.live && replica.host !== '' && !Number.isNaN(Date.parse(replica.startedAt)))
      ).toBe(true);
      expect(replicas.filter((replica) => replica.self).map((replica) => replica.pid)).toEqual([
        gates[gate]!.child.pid,
      ]);
      expect(replicas.find((replica) => replica.self)?.url).toMatch(/^http:\/\//);
    }
    const doc = await call(`${gates[0]!.url}/gate/openapi.json`);
    expect(doc.status).toBe(200);
    expect(doc.text).toContain('the gate replicas sharing it');
    expect(doc.text).toContain('The gate that answered');
  });
});

// Last: it kills Redis.
describe('a Redis outage', () => {
  it('each gate goes on alone, and what one learned meanwhile reaches the other once Redis is back', async () => {
    const { id, key } = await createKey('through the outage', 'creator');
    await redis.kill();
    for (let i = 0; i < 3; i++) expect((await as(0, key, '/api/queue')).status).toBe(200);
    const entry = await finished(await queuePrompt(0, key));
    const filename = entry.outputs['2']?.images?.[0]?.filename;
    expect(filename).toBeDefined();
    expect(await view(0, key, filename!)).toBe(200);

    // Back, empty: gate 1 learns the owner of the output and gate 0's usage from what gate 0 kept.
    await redis.restart();
    expect(await until(async () => (await view(1, key, filename!)) === 200, 15_000)).toBe(true);
    expect(await view(1, bob, filename!)).toBe(404);
    expect(await until(async () => (await usageOf(1, id)).requests >= 4, 20_000)).toBe(true);
    for (const gate of gates) expect(gate.child.exitCode).toBeNull();
  }, 45_000);
});
