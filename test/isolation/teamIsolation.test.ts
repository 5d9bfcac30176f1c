// Team isolation (DESIGN "Sharing safely") against the fake ComfyUI: two creators share one GPU and
// neither sees nor touches the other's prompts; an operator sees everything.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';
import { eventually } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';

type QueueTuple = [number, string, unknown, Record<string, unknown>, string[]];
interface QueueAnswer {
  queue_running: QueueTuple[];
  queue_pending: QueueTuple[];
  comfygate_hidden?: { running: number; pending: number };
}
interface HistoryEntry {
  prompt: QueueTuple;
  status: { status_str: string; completed: boolean; messages: Array<[string, Record<string, unknown>]> };
}
interface ErrorAnswer {
  error: { code: string; message: string };
}

// Slow nodes keep a prompt running long enough to look at the queue while it runs.
const { fake, gate } = withGateAndComfy({ comfy: { nodeDelayMs: 400 }, gate: { mode: 'required' } });
let alice: string;
let bob: string;
let olga: string;
const sockets: RecordingSocket[] = [];

const ids = (list: QueueTuple[]) => list.map((item) => item[1]);

function as<T = unknown>(key: string, path: string, json?: unknown) {
  return call<T>(`${gate.url}${path}`, { headers: { 'x-api-key': key }, json });
}

async function createKey(name: string, role: string): Promise<string> {
  const res = await as<{ key: string }>(gate.adminKey, '/gate/api/keys', { name, role });
  expect(res.status).toBe(201);
  return res.body.key;
}

async function queuePrompt(key: string, extra: Record<string, unknown> = {}, prompt: unknown = SMALL_PROMPT) {
  const res = await as<{ prompt_id: string }>(key, '/api/prompt', { prompt, ...extra });
  expect(res.status).toBe(200);
  return res.body.prompt_id;
}

async function queueIdle(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const queue = await as<QueueAnswer>(gate.adminKey, '/api/queue');
    if (queue.body.queue_running.length === 0 && queue.body.queue_pending.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the fake ComfyUI never became idle');
}

async function finished(promptId: string): Promise<HistoryEntry> {
  for (let i = 0; i < 200; i++) {
    const history = await as<Record<string, HistoryEntry>>(gate.adminKey, `/api/history/${promptId}`);
    const entry = history.body[promptId];
    if (entry) return entry;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`prompt ${promptId} never finished`);
}

async function runningNow(promptId: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const queue = await as<QueueAnswer>(gate.adminKey, '/api/queue');
    if (ids(queue.body.queue_running).includes(promptId)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`prompt ${promptId} never started`);
}

/** A tab's socket as a browser opens it: offering permessage-deflate, so filtering is tested under compression. */
async function openSocket(key: string, clientId: string): Promise<RecordingSocket> {
  const socket = await RecordingSocket.open(`${gate.url.replace('http', 'ws')}/ws?clientId=${clientId}`, {
    headers: { 'x-api-key': key },
    perMessageDeflate: true,
  });
  sockets.push(socket);
  expect(socket.ws.extensions).toContain('permessage-deflate');
  return socket;
}

/** Every frame a socket got that names `promptId`, in the JSON text or a preview's metadata. */
function framesNaming(socket: RecordingSocket, promptId: string): number {
  return socket.received.filter((m) => m.data.includes(promptId)).length;
}

beforeAll(async () => {
  alice = await createKey('alice', 'creator');
  bob = await createKey('bob', 'creator');
  olga = await createKey('olga', 'operator');
});

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((socket) => socket.close()));
  await queueIdle();
});

describe('the queue', () => {
  it("shows a creator only their own prompts and counts the others'; an operator sees all", async () => {
    const running = await queuePrompt(alice);
    const pending = await queuePrompt(alice);
    await runningNow(running);

    const bobs = await as<QueueAnswer>(bob, '/api/queue');
    expect(bobs.status).toBe(200);
    expect(bobs.body.queue_running).toEqual([]);
    expect(bobs.body.queue_pending).toEqual([]);
    expect(bobs.body.comfygate_hidden).toEqual({ running: 1, pending: 1 });
    expect(bobs.text).not.toContain(running);

    const alices = await as<QueueAnswer>(alice, '/queue');
    expect(ids(alices.body.queue_running)).toEqual([running]);
    expect(ids(alices.body.queue_pending)).toEqual([pending]);
    expect(alices.body.comfygate_hidden).toEqual({ running: 0, pending: 0 });

    const olgas = await as<QueueAnswer>(olga, '/api/queue');
    expect([...ids(olgas.body.queue_running), ...ids(olgas.body.queue_pending)]).toEqual([running, pending]);
    expect(olgas.body.comfygate_hidden).toBeUndefined();
  });

  it('stamps the owner into extra_data, and a caller cannot forge it', async () => {
    const id = await queuePrompt(bob, { extra_data: { comfygate_owner: 'someone-else', note: 'kept' } });
    const olgas = await as<QueueAnswer>(olga, '/api/queue');
    const item = [...olgas.body.queue_running, ...olgas.body.queue_pending].find((tuple) => tuple[1] === id);
    expect(item?.[3]['note']).toBe('kept');
    expect(item?.[3]['comfygate_owner']).not.toBe('someone-else');
    expect(ids((await as<QueueAnswer>(bob, '/api/queue')).body.queue_running)).toContain(id);
  });
});

describe('interrupt and deletion', () => {
  it("refuses a creator's interrupt or delete of another's prompt, and ComfyUI's queue is untouched", async () => {
    const running = await queuePrompt(alice);
    const pending = await queuePrompt(alice);
    await runningNow(running);

    const targeted = await as<ErrorAnswer>(bob, '/api/interrupt', { prompt_id: running });
    expect(targeted.status).toBe(403);
    expect(targeted.body.error.code).toBe('not_your_prompt');
    const deleted = await as<ErrorAnswer>(bob, '/api/queue', { delete: [pending] });
    expect(deleted.status).toBe(403);
    expect(deleted.body.error.code).toBe('not_your_prompt');
    const historyDelete = await as<ErrorAnswer>(bob, '/api/history', { delete: [running] });
    expect(historyDelete.status).toBe(403);

    // An id the gate knows no owner of is left out, as ComfyUI leaves out an id it does not know.
    expect((await as(bob, '/api/queue', { delete: ['no-such-prompt'] })).status).toBe(200);

    const olgas = await as<QueueAnswer>(olga, '/api/queue');
    expect([...ids(olgas.body.queue_running), ...ids(olgas.body.queue_pending)]).toEqual([running, pending]);
    expect((await finished(running)).status.status_str).toBe('success');
  });

  it("answers a creator's global interrupt with ComfyUI's 200 and leaves another's running prompt alone", async () => {
    expect((await as(bob, '/api/interrupt', {})).status).toBe(200);
    const running = await queuePrompt(alice);
    const bobsPending = await queuePrompt(bob);
    await runningNow(running);
    // Clients send an empty body, or none at all.
    const empty = await call(`${gate.url}/api/interrupt`, { method: 'POST', headers: { 'x-api-key': bob } });
    expect([empty.status, empty.text]).toEqual([200, '']);
    expect((await as(bob, '/interrupt', {})).status).toBe(200);
    expect((await finished(running)).status.status_str).toBe('success');
    expect((await finished(bobsPending)).status.status_str).toBe('success');
  });

  it("turns a creator's global interrupt into one of their own running prompt", async () => {
    const running = await queuePrompt(alice);
    const bobs = await queuePrompt(bob);
    await runningNow(running);
    expect((await as(alice, '/api/interrupt', {})).status).toBe(200);
    const interrupted = await finished(running);
    expect(interrupted.status.messages.map(([type]) => type)).toContain('execution_interrupted');
    expect((await finished(bobs)).status.status_str).toBe('success');
  });

  it('lets a creator delete their own pending prompt', async () => {
    await queuePrompt(bob);
    const own = await queuePrompt(alice);
    expect((await as(alice, '/api/queue', { delete: [own, 'no-such-prompt'] })).status).toBe(200);
    const olgas = await as<QueueAnswer>(olga, '/api/queue');
    expect(ids(olgas.body.queue_pending)).not.toContain(own);
  });

  it("refuses to reuse another caller's prompt_id, which would overwrite their history entry", async () => {
    const id = await queuePrompt(alice);
    const reused = await as<ErrorAnswer>(bob, '/api/prompt', { prompt: SMALL_PROMPT, prompt_id: id });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('conflict');
  });
});

describe('history', () => {
  it("shows a creator only their own entries; another's id answers like an unknown one", async () => {
    const alicesId = await queuePrompt(alice);
    const bobsId = await queuePrompt(bob);
    await finished(alicesId);
    await finished(bobsId);

    const bobs = await as<Record<string, HistoryEntry>>(bob, '/api/history?max_items=50');
    expect(Object.keys(bobs.body)).toContain(bobsId);
    expect(Object.keys(bobs.body)).not.toContain(alicesId);
    expect(bobs.text).not.toContain(alicesId);
    const direct = await as(bob, `/api/history/${alicesId}`);
    expect([direct.status, direct.body]).toEqual([200, {}]);
    expect(Object.keys((await as<Record<string, unknown>>(alice, `/history/${alicesId}`)).body)).toEqual([alicesId]);
    const olgas = await as<Record<string, unknown>>(olga, '/api/history');
    expect(Object.keys(olgas.body)).toEqual(expect.arrayContaining([alicesId, bobsId]));
  });

  it('hides server paths and tracebacks in a creator’s own errors, not from an operator', async () => {
    const failing = {
      '1': SMALL_PROMPT['1'],
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: '../../outside/x' } },
    };
    const socket = await openSocket(alice, 'alice-errors');
    const id = await queuePrompt(alice, { client_id: 'alice-errors' }, failing);
    await finished(id);

    const full = (await as<Record<string, HistoryEntry>>(olga, `/api/history/${id}`)).body[id]!;
    const fullError = full.status.messages.find(([type]) => type === 'execution_error')![1];
    expect((fullError['traceback'] as string[]).length).toBeGreaterThan(0);
    expect(String(fullError['exception_message'])).toContain('/');

    const own = (await as<Record<string, HistoryEntry>>(alice, `/api/history/${id}`)).body[id]!;
    const ownError = own.status.messages.find(([type]) => type === 'execution_error')![1];
    expect(ownError['traceback']).toEqual([]);
    expect(ownError['exception_type']).toBe('Exception');
    expect(ownError['node_id']).toBe('2');
    expect(String(ownError['exception_message'])).toContain('Saving image outside the output folder');
    expect(String(ownError['exception_message'])).not.toMatch(/\/[^\s/]+\//);

    await eventually(() => socket.json().some((m) => (m as { type?: string }).type === 'execution_error'), 'ws error');
    const wsError = socket.json().find((m) => (m as { type?: string }).type === 'execution_error') as {
      data: Record<string, unknown>;
    };
    expect(wsError.data['traceback']).toEqual([]);
    expect(String(wsError.data['exception_message'])).not.toMatch(/\/[^\s/]+\//);
  });
});

describe('settings writes', () => {
  it("land in the creator's own space without --multi-user, never in the settings file every teammate shares", async () => {
    expect((await as(alice, '/api/settings', { 'Comfy.ColorPalette': 'light' })).status).toBe(200);
    expect((await call(`${fake.url}/api/settings`)).body).not.toHaveProperty('Comfy.ColorPalette');
    expect((await as(bob, '/api/settings/Comfy.ColorPalette')).body).toBeNull();
  });
});

describe('/system_stats', () => {
  it("shows a creator argv's flag names only; an operator the whole command line", async () => {
    const bobs = await as<{ system: { argv: string[] } }>(bob, '/api/system_stats');
    expect(bobs.status).toBe(200);
    expect(bobs.body.system.argv).toEqual(['--listen', '--port', '--max-upload-size']);
    const olgas = await as<{ system: { argv: string[] } }>(olga, '/api/system_stats');
    expect(olgas.body.system.argv).toContain('127.0.0.1');
  });
});

describe('WebSocket', () => {
  it("delivers a creator's own prompt's messages and previews, and none of another's", async () => {
    const alices = await openSocket(alice, 'alice-tab');
    const bobs = await openSocket(bob, 'bob-tab');
    const id = await queuePrompt(alice, { client_id: 'alice-tab' });
    await finished(id);
    await eventually(
      () => alices.json().some((m) => (m as { type: string }).type === 'execution_success'),
      "execution_success on the owner's socket",
      5_000
    );
    const types = alices.json().map((m) => (m as { type: string }).type);
    expect(types).toEqual(expect.arrayContaining(['execution_start', 'progress', 'executed', 'execution_success']));
    expect(alices.received.some((m) => m.isBinary)).toBe(true);
    expect(framesNaming(bobs, id)).toBe(0);
    expect(bobs.received.some((m) => m.isBinary)).toBe(false);
  });

  it("refuses a prompt aimed at another caller's open clientId; the caller's own is fine", async () => {
    await openSocket(bob, 'bob-aimed');
    const aimed = await as<ErrorAnswer>(alice, '/api/prompt', { prompt: SMALL_PROMPT, client_id: 'bob-aimed' });
    expect(aimed.status).toBe(409);
    expect(aimed.body.error.code).toBe('conflict');
    await openSocket(alice, 'alice-own');
    await queuePrompt(alice, { client_id: 'alice-own' });
  });

  it("drops another caller's prompt on a socket opened later with its clientId, previews included", async () => {
    // Nobody holds these clientIds when the prompts are queued; the sockets come after.
    const aimedAtBob = await queuePrompt(alice, { client_id: 'late-bob' });
    const aimedAtOlga = await queuePrompt(alice, { client_id: 'late-olga' });
    const bobs = await openSocket(bob, 'late-bob');
    bobs.ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    const olgas = await openSocket(olga, 'late-olga');
    await finished(aimedAtBob);
    await finished(aimedAtOlga);
    // The later prompt's end on the operator's socket: by then ComfyUI sent everything of the first.
    await eventually(
      () => olgas.received.some((m) => m.data.includes('execution_success') && m.data.includes(aimedAtOlga)),
      'execution_success on the operator socket',
      5_000
    );
    expect(framesNaming(bobs, aimedAtBob)).toBe(0);
    expect(bobs.received.some((m) => m.isBinary)).toBe(false);
    // The operator is not isolated: ComfyUI's own routing decides what their socket gets.
    expect(framesNaming(olgas, aimedAtOlga)).toBeGreaterThan(0);
    expect(olgas.received.some((m) => m.isBinary)).toBe(true);
  });

  it("refuses a socket asking for another caller's open clientId, allows the caller's own second tab", async () => {
    await openSocket(alice, 'alice-claimed');
    await expect(openSocket(bob, 'alice-claimed')).rejects.toThrow('handshake answered 409');
    await openSocket(alice, 'alice-claimed');
  });
});

describe('the setting', () => {
  it('off: a creator sees the whole queue again; on by default', async () => {
    const settings = await as<{ isolation: boolean }>(gate.adminKey, '/gate/api/settings');
    expect(settings.body.isolation).toBe(true);
    const patched = await call(`${gate.url}/gate/api/settings`, {
      method: 'PATCH',
      headers: { 'x-api-key': gate.adminKey },
      json: { isolation: false },
    });
    expect(patched.status).toBe(200);
    try {
      const id = await queuePrompt(alice);
      const bobs = await as<QueueAnswer>(bob, '/api/queue');
      expect(ids(bobs.body.queue_running)).toEqual([id]);
      expect(bobs.body.comfygate_hidden).toBeUndefined();
    } finally {
      await call(`${gate.url}/gate/api/settings`, {
        method: 'PATCH',
        headers: { 'x-api-key': gate.adminKey },
        json: { isolation: true },
      });
    }
  });
});
