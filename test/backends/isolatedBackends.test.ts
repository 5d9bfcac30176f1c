// Team isolation over several backends: the merged queue, history and sockets are filtered per teammate as with
// one ComfyUI, and an interrupt of one teammate's prompt does not stop another's on another backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { startTestGate, type TestGate } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';

type QueueTuple = [number, string, ...unknown[]];
interface QueueAnswer {
  queue_running: QueueTuple[];
  queue_pending: QueueTuple[];
  comfygate_hidden?: { running: number; pending: number };
}
interface Frame {
  type: string;
  data: Record<string, unknown> | null;
}

describe('team isolation over several backends', () => {
  let fakes: FakeComfy[];
  let gate: TestGate;
  let alice: string;
  let bob: string;

  const as = <T = unknown>(key: string, path: string, json?: unknown) =>
    call<T>(`${gate.url}${path}`, { headers: { 'x-api-key': key }, json });

  async function createKey(name: string): Promise<string> {
    const res = await as<{ key: string }>(gate.adminKey, '/gate/api/keys', { name, role: 'creator' });
    expect(res.status).toBe(201);
    return res.body.key;
  }

  async function queuePrompt(key: string, clientId: string): Promise<string> {
    const res = await as<{ prompt_id: string }>(key, '/api/prompt', { prompt: SMALL_PROMPT, client_id: clientId });
    expect(res.status).toBe(200);
    return res.body.prompt_id;
  }

  async function until(check: () => Promise<boolean> | boolean, message: string): Promise<void> {
    for (let i = 0; i < 400; i++) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`timed out: ${message}`);
  }

  beforeAll(async () => {
    fakes = await Promise.all([startFakeComfy({ nodeDelayMs: 300 }), startFakeComfy({ nodeDelayMs: 300 })]);
    gate = await startTestGate({
      upstream: fakes[0]!.url,
      upstreams: fakes.map((fake) => ({ url: fake.url })),
      mode: 'required',
    });
    alice = await createKey('alice');
    bob = await createKey('bob');
  });

  afterAll(async () => {
    await gate.stop();
    await Promise.all(fakes.map((fake) => fake.close()));
  });

  it('shows each teammate only their own prompts of the merged queue, history and sockets', async () => {
    const aliceSocket = await RecordingSocket.open(`${gate.url.replace('http', 'ws')}/ws?clientId=alice-tab`, {
      headers: { 'x-api-key': alice },
    });
    const bobSocket = await RecordingSocket.open(`${gate.url.replace('http', 'ws')}/ws?clientId=bob-tab`, {
      headers: { 'x-api-key': bob },
    });
    const aliceIds = [await queuePrompt(alice, 'alice-tab'), await queuePrompt(alice, 'alice-tab')];
    const bobIds = [await queuePrompt(bob, 'bob-tab'), await queuePrompt(bob, 'bob-tab')];
    // Four prompts on two backends: both run one at once.
    expect(
      fakes.map((fake) => fake.requests.filter((r) => r.method === 'POST' && r.rawUrl === '/api/prompt').length)
    ).toEqual([2, 2]);

    const aliceQueue = await as<QueueAnswer>(alice, '/api/queue');
    const seen = [...aliceQueue.body.queue_running, ...aliceQueue.body.queue_pending].map((item) => item[1]);
    expect(seen.every((id) => aliceIds.includes(id))).toBe(true);
    expect(
      seen.length + (aliceQueue.body.comfygate_hidden?.running ?? 0) + (aliceQueue.body.comfygate_hidden?.pending ?? 0)
    ).toBe(4);

    // Bob cannot stop Alice's prompt, wherever it runs.
    const refused = await as(bob, '/api/interrupt', { prompt_id: aliceIds[0] });
    expect(refused.status).toBe(403);

    const done = (socket: RecordingSocket, id: string) =>
      (socket.json() as Frame[]).some(
        (frame) => frame.type === 'execution_success' && frame.data?.['prompt_id'] === id
      );
    await until(
      () => aliceIds.every((id) => done(aliceSocket, id)) && bobIds.every((id) => done(bobSocket, id)),
      'all ran'
    );

    const heard = (socket: RecordingSocket) =>
      new Set(
        (socket.json() as Frame[]).flatMap((frame) => (frame.data?.['prompt_id'] ? [frame.data['prompt_id']] : []))
      );
    expect(heard(aliceSocket)).toEqual(new Set(aliceIds));
    expect(heard(bobSocket)).toEqual(new Set(bobIds));

    const aliceHistory = await as<Record<string, unknown>>(alice, '/api/history');
    expect(Object.keys(aliceHistory.body).sort()).toEqual([...aliceIds].sort());
    const foreign = await as<Record<string, unknown>>(alice, `/api/history/${bobIds[0]}`);
    expect(foreign.body).toEqual({});
    const own = await as<Record<string, unknown>>(alice, `/api/history/${aliceIds[1]}`);
    expect(Object.keys(own.body)).toEqual([aliceIds[1]]);
    await Promise.all([aliceSocket.close(), bobSocket.close()]);
  });
});
