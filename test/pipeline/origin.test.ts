import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { WebSocket } from 'ws';
import { originStep } from '../../server/pipeline/originStep.js';
import { Exchange } from '../../server/pipeline/exchange.js';
import { callerRequests, withGateAndComfy } from '../helpers/gateAndComfy.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';

const { fake, gate } = withGateAndComfy();

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

function openWs(path: string, origin?: string, host?: string): Promise<{ ws: WebSocket; first: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gate.url.replace('http', 'ws')}${path}`, {
      ...(origin ? { origin } : {}),
      ...(host ? { headers: { host } } : {}),
    });
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
    const seen = callerRequests(fake).at(-1)!;
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
    const before = callerRequests(fake).length;
    const res = await browserPost('/api/prompt', typeof origin === 'function' ? origin() : origin);
    expect(res.statusCode).toBe(403);
    expect(await res.body.json()).toMatchObject({ error: { code: 'forbidden_origin' } });
    expect(callerRequests(fake).length).toBe(before);
  });

  it('refuses a WebSocket handshake from a foreign origin before opening one upstream', async () => {
    const before = fake.upgrades.length;
    await expect(openWs('/ws', 'https://evil.example')).rejects.toThrow('handshake answered 403');
    expect(fake.upgrades.length).toBe(before);
  });

  it('refuses state-changing requests marked Sec-Fetch-Site: cross-site, even without Origin', async () => {
    const before = callerRequests(fake).length;
    const res = await request(`${gate.url}/api/interrupt`, {
      method: 'POST',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(res.statusCode).toBe(403);
    await res.body.dump();
    expect(callerRequests(fake).length).toBe(before);
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

describe('DNS rebinding', () => {
  const port = (): string => new URL(gate.url).port;

  it('refuses a page on another host name that resolves to this loopback gate, before ComfyUI sees it', async () => {
    // The rebinding page is same-origin with itself, so its Origin matches its Host: only the Host gives it away.
    const before = callerRequests(fake).length;
    const host = `attacker.example:${port()}`;
    const res = await browserPost('/api/prompt', `http://${host}`, { host });
    expect(res.statusCode).toBe(403);
    const body = (await res.body.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('forbidden_origin');
    expect(body.error.message).toContain('localhost names');
    const read = await request(`${gate.url}/api/queue`, { headers: { host } });
    expect(read.statusCode).toBe(403);
    await read.body.dump();
    expect(callerRequests(fake).length).toBe(before);
  });

  it('refuses its WebSocket handshake too', async () => {
    const before = fake.upgrades.length;
    const host = `attacker.example:${port()}`;
    await expect(openWs('/ws', `http://${host}`, host)).rejects.toThrow('handshake answered 403');
    expect(fake.upgrades.length).toBe(before);
  });

  it.each(['localhost', '127.0.0.1', 'comfy.localhost'])('answers to the loopback name %s', async (name) => {
    const res = await request(`${gate.url}/api/queue`, { headers: { host: `${name}:${port()}` } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it('leaves Host names alone on a gate shared on the LAN (teammates use its LAN name or address)', () => {
    const exchange = (host: string): Exchange =>
      new Exchange({ headers: { host }, method: 'GET', url: '/queue' } as IncomingMessage, false, '192.168.1.20');
    expect(originStep(() => false)(exchange('gpu-box.lan:8189'))).toBeUndefined();
    expect(originStep(() => true)(exchange('gpu-box.lan:8189'))?.code).toBe('forbidden_origin');
  });
});
