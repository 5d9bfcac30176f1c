// Team isolation covers files: a creator reads only their own uploads and their own prompts'
// outputs through /view; another teammate's answer 404 as a missing file does, an upload cannot
// replace or copy another's file, and the owners survive a restart of the gate.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormData, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateConfigSchema } from '../../server/config/schema.js';
import { startGate, type GateHandle } from '../../server/gate.js';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { eventually, startTestGate, type TestGate } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';

interface Upload {
  name: string;
  subfolder: string;
  type: string;
}
interface HistoryEntry {
  outputs: Record<string, { images?: Array<{ filename: string; subfolder: string; type: string }> }>;
}

let fake: FakeComfy;
let gate: TestGate;
let url: string;
let dataDir: string;
let admin: string;
let alice: string;
let bob: string;
let olga: string;

function as<T = unknown>(key: string, path: string, json?: unknown) {
  return call<T>(`${url}${path}`, { headers: { 'x-api-key': key }, json });
}

async function view(key: string, query: string): Promise<{ status: number; bytes: number }> {
  const res = await request(`${url}/api/view?${query}`, { headers: { 'x-api-key': key } });
  return { status: res.statusCode, bytes: (await res.body.arrayBuffer()).byteLength };
}

async function upload(
  key: string,
  name: string,
  bytes: Buffer,
  fields: Record<string, string> = {},
  route = '/api/upload/image'
): Promise<{ status: number; body: unknown }> {
  const form = new FormData();
  form.append('image', new Blob([bytes], { type: 'image/png' }), name);
  for (const [field, value] of Object.entries(fields)) form.append(field, value);
  const res = await request(`${url}${route}`, { method: 'POST', body: form, headers: { 'x-api-key': key } });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? (JSON.parse(text) as unknown) : undefined };
}

async function createKey(name: string, role: string): Promise<string> {
  const res = await as<{ key: string }>(admin, '/gate/api/keys', { name, role });
  expect(res.status).toBe(201);
  return res.body.key;
}

/** Queues SMALL_PROMPT as `key` and waits (as the operator, who sees everything) for its output file. */
async function generate(key: string, prefix: string): Promise<{ id: string; filename: string }> {
  const prompt = {
    ...SMALL_PROMPT,
    '2': { ...SMALL_PROMPT['2'], inputs: { ...SMALL_PROMPT['2'].inputs, filename_prefix: prefix } },
  };
  const queued = await as<{ prompt_id: string }>(key, '/api/prompt', { prompt });
  expect(queued.status).toBe(200);
  const id = queued.body.prompt_id;
  for (let i = 0; i < 200; i++) {
    const history = await call<Record<string, HistoryEntry>>(`${fake.url}/history/${id}`);
    const filename = history.body[id]?.outputs['2']?.images?.[0]?.filename;
    if (filename !== undefined) return { id, filename };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`prompt ${id} never finished`);
}

beforeAll(async () => {
  fake = await startFakeComfy({ nodeDelayMs: 20 });
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-files-'));
  gate = await startTestGate({ upstream: fake.url, mode: 'required', dataDir });
  url = gate.url;
  admin = gate.adminKey;
  alice = await createKey('alice', 'creator');
  bob = await createKey('bob', 'creator');
  olga = await createKey('olga', 'operator');
});

afterAll(async () => {
  await gate.stop();
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('outputs', () => {
  it("serves a script's own output without a WebSocket or a history read; another's answers 404", async () => {
    const { filename } = await generate(alice, 'alice_script');
    // Output names are sequential: Bob can guess this one.
    const query = `filename=${filename}&type=output&subfolder=`;
    expect((await view(bob, query)).status).toBe(404);
    expect((await view(bob, `${query}&preview=webp;90`)).status).toBe(404);
    expect((await view(bob, `filename=${filename.toUpperCase()}`)).status).toBe(404);
    expect((await view(bob, `filename=${encodeURIComponent(`${filename} [output]`)}&type=input`)).status).toBe(404);
    const head = await request(`${url}/view?filename=${filename}`, { method: 'HEAD', headers: { 'x-api-key': bob } });
    expect(head.statusCode).toBe(404);
    await head.body.dump();
    expect((await view(alice, query)).status).toBe(200);
    expect((await view(olga, query)).status).toBe(200);
  });

  it('learns outputs from the history a creator reads', async () => {
    const { id, filename } = await generate(bob, 'bob_history');
    const own = await as<Record<string, HistoryEntry>>(bob, `/api/history/${id}`);
    expect(own.body[id]?.outputs['2']?.images?.[0]?.filename).toBe(filename);
    expect((await view(bob, `filename=${filename}`)).status).toBe(200);
    expect((await view(alice, `filename=${filename}`)).status).toBe(404);
  });
});

describe('uploads', () => {
  it("keep a creator's input theirs; the same name from a teammate is renamed, never overwritten", async () => {
    const mine = Buffer.alloc(3_000, 1);
    const first = await upload(alice, 'cat.png', mine);
    expect(first).toEqual({ status: 200, body: { name: 'cat.png', subfolder: '', type: 'input' } });
    expect(await view(alice, 'filename=cat.png&type=input')).toEqual({ status: 200, bytes: 3_000 });
    expect((await view(bob, 'filename=cat.png&type=input')).status).toBe(404);

    const renamed = await upload(bob, 'cat.png', Buffer.alloc(2_000, 2));
    expect((renamed.body as Upload).name).toBe('cat (1).png');
    expect(await view(bob, 'filename=cat%20(1).png&type=input')).toEqual({ status: 200, bytes: 2_000 });
    expect((await view(alice, 'filename=cat%20(1).png&type=input')).status).toBe(404);

    const overwrite = await upload(bob, 'cat.png', Buffer.alloc(1_000, 3), { overwrite: 'true' });
    expect(overwrite.status).toBe(403);
    expect(overwrite.body).toMatchObject({ error: { code: 'not_your_file' } });
    // ComfyUI never got the whole form: Alice's file is as she uploaded it.
    expect(await view(olga, 'filename=cat.png&type=input')).toEqual({ status: 200, bytes: 3_000 });
    expect(await view(alice, 'filename=cat.png&type=input')).toEqual({ status: 200, bytes: 3_000 });

    const own = await upload(alice, 'cat.png', Buffer.alloc(500, 4), { type: 'input', overwrite: '1' });
    expect(own).toEqual({ status: 200, body: { name: 'cat.png', subfolder: '', type: 'input' } });
    expect(await view(alice, 'filename=cat.png&type=input')).toEqual({ status: 200, bytes: 500 });
    // The operator acts on everything.
    expect((await upload(olga, 'cat.png', Buffer.alloc(700, 5), { overwrite: 'true' })).status).toBe(200);
  });

  it('lets the same bytes under the same name be both uploaders’ file, as ComfyUI reuses it', async () => {
    const bytes = Buffer.alloc(1_234, 7);
    expect((await upload(alice, 'shared.png', bytes, { subfolder: 'pasted' })).body).toMatchObject({
      name: 'shared.png',
    });
    expect((await upload(bob, 'shared.png', bytes, { subfolder: 'pasted' })).body).toMatchObject({
      name: 'shared.png',
    });
    expect((await view(bob, 'filename=shared.png&type=input&subfolder=pasted')).status).toBe(200);
    expect((await view(alice, 'filename=shared.png&type=input&subfolder=pasted')).status).toBe(200);
  });

  it("refuses a mask upload built on another teammate's image", async () => {
    const { filename } = await generate(alice, 'alice_masked');
    const ref = JSON.stringify({ filename, type: 'output', subfolder: '' });
    const copied = await upload(bob, 'stolen.png', Buffer.alloc(100, 1), { original_ref: ref }, '/api/upload/mask');
    expect(copied.status).toBe(404);
    expect((await view(olga, 'filename=stolen.png&type=input')).status).toBe(404);
    const own = await upload(alice, 'mask.png', Buffer.alloc(100, 1), { original_ref: ref }, '/api/upload/mask');
    expect(own.status).toBe(200);
    expect((await view(alice, 'filename=mask.png&type=input')).status).toBe(200);
  });
});

describe('files of no known owner', () => {
  it('are hidden from creators by default and shown when the operator says so', async () => {
    fake.addFile('input', 'example.png', Buffer.alloc(10, 1));
    expect((await view(bob, 'filename=example.png&type=input')).status).toBe(404);
    expect((await view(olga, 'filename=example.png&type=input')).status).toBe(200);
    const patch = (unownedFiles: string) =>
      call(`${url}/gate/api/settings`, { method: 'PATCH', headers: { 'x-api-key': admin }, json: { unownedFiles } });
    expect((await patch('visible')).status).toBe(200);
    try {
      expect((await view(bob, 'filename=example.png&type=input')).status).toBe(200);
      // Visible covers only files nobody owns.
      expect((await view(bob, 'filename=cat.png&type=input')).status).toBe(404);
    } finally {
      await patch('hidden');
    }
    expect((await patch('shared')).status).toBe(400);
  });
});

describe('a restart of the gate', () => {
  it('keeps who owns which file, in a 0600 file of the data dir', async () => {
    const { filename } = await generate(alice, 'alice_restart');
    expect((await view(alice, `filename=${filename}`)).status).toBe(200);
    await gate.stop();
    let restarted: GateHandle | undefined;
    try {
      restarted = await startGate({
        config: gateConfigSchema.parse({ host: '127.0.0.1', port: 0, logLevel: 'silent', upstream: fake.url, dataDir }),
      });
      url = restarted.url;
      expect((await stat(join(dataDir, 'file-owners.json'))).mode & 0o777).toBe(0o600);
      expect((await view(alice, `filename=${filename}`)).status).toBe(200);
      expect((await view(bob, `filename=${filename}`)).status).toBe(404);
      expect((await view(alice, 'filename=cat.png&type=input')).status).toBe(200);
      expect((await view(bob, 'filename=cat.png&type=input')).status).toBe(404);
    } finally {
      await restarted?.stop();
      gate = await startTestGate({ upstream: fake.url, mode: 'required' });
    }
  });
});

describe('the web UI', () => {
  it('shows an output as soon as its executed message arrives, before the prompt ends', async () => {
    // Slow nodes: the prompt's second output is still being made when the first one is shown.
    const slow = await startFakeComfy({ nodeDelayMs: 1_500 });
    const web = await startTestGate({ upstream: slow.url, mode: 'required' });
    const socketOf = (key: string) =>
      RecordingSocket.open(`${web.url.replace('http', 'ws')}/ws?clientId=carol-tab`, { headers: { 'x-api-key': key } });
    try {
      const key = async (name: string) =>
        (
          await call<{ key: string }>(`${web.url}/gate/api/keys`, {
            headers: { 'x-api-key': web.adminKey },
            json: { name, role: 'creator' },
          })
        ).body.key;
      const carol = await key('carol');
      const dave = await key('dave');
      const socket = await socketOf(carol);
      const prompt = {
        '1': SMALL_PROMPT['1'],
        '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'carol_first' } },
        '3': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'carol_second' } },
      };
      const queued = await call<{ prompt_id: string }>(`${web.url}/api/prompt`, {
        headers: { 'x-api-key': carol },
        json: { prompt, client_id: 'carol-tab' },
      });
      expect(queued.status).toBe(200);
      const executed = (): { data: { output: { images: Array<{ filename: string }> } } } | undefined =>
        socket.json().find((m) => (m as { type?: string }).type === 'executed') as
          { data: { output: { images: Array<{ filename: string }> } } } | undefined;
      await eventually(() => executed() !== undefined, 'the first executed message', 10_000);
      const filename = executed()!.data.output.images[0]!.filename;
      const viewAs = async (who: string) =>
        (await request(`${web.url}/api/view?filename=${filename}&type=output`, { headers: { 'x-api-key': who } }))
          .statusCode;
      expect(await viewAs(carol)).toBe(200);
      expect(await viewAs(dave)).toBe(404);
      const history = await call<Record<string, unknown>>(`${slow.url}/history/${queued.body.prompt_id}`);
      expect(history.body).toEqual({});
      await socket.close();
    } finally {
      await web.stop();
      await slow.close();
    }
  });
});
