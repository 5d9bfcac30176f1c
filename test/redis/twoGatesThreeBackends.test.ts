// Issue 20 as a team would run it: a real redis-server, two real gate processes sharing it, and three fake
// ComfyUIs behind each gate. Prompts queued through either gate spread over the backends, each teammate's socket
// gets exactly their own prompts' frames, a prompt's history and outputs are found through the other gate, and a
// revoke on one gate ends the key's socket on the other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { stopProcess, waitForLine } from '../helpers/cli.js';
import { withCliFixture } from '../helpers/cliFixture.js';
import { spawnRedisGate, type RedisGate } from '../helpers/redisGate.js';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { startRedisServer, type RedisServer } from '../helpers/redisServer.js';
import { RecordingSocket } from '../helpers/wsClient.js';

interface Frame {
  type: string;
  data: Record<string, unknown>;
}

const fixture = withCliFixture('scale');
let redis: RedisServer;
let fakes: FakeComfy[] = [];
const gates: RedisGate[] = [];
let adminKey: string;

async function startGate(): Promise<RedisGate> {
  const gate = await spawnRedisGate(
    await fixture.freshDir(),
    redis.url,
    fakes.map((fake) => fake.url)
  );
  gates.push(gate);
  return gate;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function createKey(name: string): Promise<{ id: string; key: string }> {
  const res = await call<{ id: string; key: string }>(`${gates[0]!.url}/gate/api/keys`, {
    headers: { 'x-api-key': adminKey },
    json: { name, role: 'creator' },
  });
  expect(res.status).toBe(201);
  return res.body;
}

async function queuePrompt(gateUrl: string, key: string, clientId: string, prefix: string): Promise<string> {
  const prompt = {
    '1': SMALL_PROMPT['1'],
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } },
  };
  const res = await call<{ prompt_id: string }>(`${gateUrl}/api/prompt`, {
    headers: { 'x-api-key': key },
    json: { prompt, client_id: clientId },
  });
  expect(res.status).toBe(200);
  return res.body.prompt_id;
}

function promptPosts(fake: FakeComfy): number {
  return fake.requests.filter((r) => r.method === 'POST' && (r.rawUrl === '/prompt' || r.rawUrl === '/api/prompt'))
    .length;
}

function promptIdsIn(socket: RecordingSocket): Set<string> {
  const ids = new Set<string>();
  for (const frame of socket.json() as Frame[]) {
    const id = frame.data?.['prompt_id'];
    if (typeof id === 'string') ids.add(id);
  }
  return ids;
}

beforeAll(async () => {
  redis = await startRedisServer();
  fakes = await Promise.all([0, 1, 2].map(() => startFakeComfy({ nodeDelayMs: 100 })));
  const first = await startGate();
  adminKey = (await waitForLine(first.child, /^\s+cgk_/)).trim();
  await startGate();
}, 90_000);

afterAll(async () => {
  await Promise.all(gates.map((gate) => stopProcess(gate.child)));
  await Promise.all(fakes.map((fake) => fake.close()));
  await redis?.stop();
});

describe('two gates sharing Redis, three ComfyUI backends behind each', () => {
  it("spreads prompts from both gates over the backends; each teammate's socket gets only their own frames", async () => {
    const ana = await createKey('ana');
    const ben = await createKey('ben');
    const [gate1, gate2] = [gates[0]!.url, gates[1]!.url];
    // Ana listens on gate 2 and queues through gate 1; Ben the other way round.
    const anaSocket = await RecordingSocket.open(`${gate2.replace('http', 'ws')}/ws?clientId=ana-tab`, {
      headers: { 'x-api-key': ana.key },
    });
    const benSocket = await RecordingSocket.open(`${gate1.replace('http', 'ws')}/ws?clientId=ben-tab`, {
      headers: { 'x-api-key': ben.key },
    });
    const before = fakes.map(promptPosts);
    const anaPrompts: string[] = [];
    const benPrompts: string[] = [];
    for (let i = 0; i < 3; i++) {
      anaPrompts.push(await queuePrompt(gate1, ana.key, 'ana-tab', `ana${i}`));
      benPrompts.push(await queuePrompt(gate2, ben.key, 'ben-tab', `ben${i}`));
    }
    const used = fakes.filter((fake, index) => promptPosts(fake) > before[index]!);
    expect(used.length).toBeGreaterThanOrEqual(2);

    const done = (socket: RecordingSocket, ids: string[]): boolean =>
      ids.every((id) =>
        (socket.json() as Frame[]).some((f) => f.type === 'execution_success' && f.data['prompt_id'] === id)
      );
    await until(() => done(anaSocket, anaPrompts), "Ana's prompts finished on her socket");
    await until(() => done(benSocket, benPrompts), "Ben's prompts finished on his socket");
    expect([...promptIdsIn(anaSocket)].sort()).toEqual([...anaPrompts].sort());
    expect([...promptIdsIn(benSocket)].sort()).toEqual([...benPrompts].sort());
    await anaSocket.close();
    await benSocket.close();

    // Through the gate she did not queue it on, Ana finds her prompt's history and its output.
    const id = anaPrompts[0]!;
    const history = await call<Record<string, { outputs: Record<string, { images?: Array<Record<string, string>> }> }>>(
      `${gate2}/api/history/${id}`,
      { headers: { 'x-api-key': ana.key } }
    );
    expect(history.status).toBe(200);
    const image = Object.values(history.body[id]!.outputs).flatMap((output) => output.images ?? [])[0]!;
    const query = new URLSearchParams({
      filename: image['filename']!,
      subfolder: image['subfolder'] ?? '',
      type: 'output',
    });
    const view = await call(`${gate2}/api/view?${query.toString()}`, { headers: { 'x-api-key': ana.key } });
    expect(view.status).toBe(200);
    // Ben sees none of it, on either gate.
    for (const gate of [gate1, gate2]) {
      const his = await call<Record<string, unknown>>(`${gate}/api/history/${id}`, {
        headers: { 'x-api-key': ben.key },
      });
      expect(his.body[id]).toBeUndefined();
    }
  });

  it('a key revoked on gate 1 loses its socket on gate 2 within 1 s', async () => {
    const { id, key } = await createKey('leaving');
    const socket = await RecordingSocket.open(`${gates[1]!.url.replace('http', 'ws')}/ws?clientId=leaving-tab`, {
      headers: { 'x-api-key': key },
    });
    const revoked = await call(`${gates[0]!.url}/gate/api/keys/${id}`, {
      method: 'PATCH',
      headers: { 'x-api-key': adminKey },
      json: { active: false },
    });
    expect(revoked.status).toBe(200);
    await until(() => socket.closed !== undefined, 'the socket on gate 2 closed', 1_000);
  });
});
