import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { WebSocket } from 'ws';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { startTestGate, type TestGate } from '../helpers/testGate.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';

let fake: FakeComfy;
let gate: TestGate;

beforeAll(async () => {
  fake = await startFakeComfy();
  gate = await startTestGate({ upstream: fake.url });
});

afterAll(async () => {
  await gate.stop();
  await fake.close();
});

const prompt = { prompt: SMALL_PROMPT };

function browserPost(path: string, origin: string, extra: Record<string, string> = {}) {
  return request(`${gate.url}${path}`, {
    method: 'POST',
    body: JSON.stringify(prompt),
    headers: {
      'content-type': 'application/json',
      origin,
      'sec-fetch-site': 'same-origin',
      'sec-fetch-mode': 'cors',
      ...extra,
    },
  });
}

function openWs(path: string, origin?: string): Promise<{ ws: WebSocket; first: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gate.url.replace('http', 'ws')}${path}`, origin ? { origin } : {});
    ws.once('message', (data: Buffer) => resolve({ ws, first: JSON.parse(data.toString()) as unknown }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake answered ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('origin handling', () => {
  it("lets a browser on the gate's own origin POST a prompt past ComfyUI's Host/Origin check", async () => {
    const res = await browserPost('/api/prompt', `http://${gate.host}`);
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toMatchObject({ prompt_id: expect.any(String) as string, node_errors: {} });
    const seen = fake.requests.at(-1)!;
    expect(seen.headers['origin']).toBeUndefined();
    expect(Object.keys(seen.headers).filter((h) => h.startsWith('sec-fetch-'))).toEqual([]);
  });

  it("lets a browser WebSocket handshake from the gate's own origin through", async () => {
    const { ws, first } = await openWs('/ws?clientId=browser-tab', `http://${gate.host}`);
    expect(first).toMatchObject({ type: 'status', data: { sid: 'browser-tab' } });
    expect(fake.upgrades.at(-1)!.headers['origin']).toBeUndefined();
    ws.close();
  });

  it.each([
    ['another site', 'https://evil.example'],
    ['the same host on another port', `http://127.0.0.1:1`],
    ['localhost instead of 127.0.0.1', () => `http://localhost:${new URL(gate.url).port}`],
    ['https instead of http', () => `https://${gate.host}`],
    ['an opaque origin', 'null'],
  ])('refuses a POST from %s with 403 JSON that never reaches ComfyUI', async (_label, origin) => {
    const before = fake.requests.length;
    const res = await browserPost('/api/prompt', typeof origin === 'function' ? origin() : origin);
    expect(res.statusCode).toBe(403);
    expect(await res.body.json()).toMatchObject({ error: { code: 'forbidden_origin' } });
    expect(fake.requests.length).toBe(before);
  });

  it('refuses a WebSocket handshake from a foreign origin before opening one upstream', async () => {
    const before = fake.upgrades.length;
    await expect(openWs('/ws', 'https://evil.example')).rejects.toThrow('handshake answered 403');
    expect(fake.upgrades.length).toBe(before);
  });

  it('refuses state-changing requests marked Sec-Fetch-Site: cross-site, even without Origin', async () => {
    const before = fake.requests.length;
    const res = await request(`${gate.url}/api/interrupt`, {
      method: 'POST',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(res.statusCode).toBe(403);
    await res.body.dump();
    expect(fake.requests.length).toBe(before);
  });

  it('lets cross-site top-level GET navigations through (links to the gate keep working)', async () => {
    const res = await request(`${gate.url}/`, {
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it('passes scripts that send no Origin at all (curl, Python clients)', async () => {
    const res = await request(`${gate.url}/prompt`, {
      method: 'POST',
      body: JSON.stringify(prompt),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });
});
