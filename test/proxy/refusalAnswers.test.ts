// Issue 16 item 1: a refusal of a ComfyUI route is an error ComfyUI's clients already know how to
// show (ComfyUI's error shape, the gate's code kept), and a browser that navigated gets a page a
// person can read, with the same status.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { call, sessionCookieOf, type JsonResponse } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { startTestGate, type TestGate } from '../helpers/testGate.js';

interface ComfyShapedError {
  error: { code: string; message: string; type: string; details: string; extra_info: object };
  node_errors: object;
}

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

let fake: FakeComfy;
let gate: TestGate;

async function createKey(body: Record<string, unknown>): Promise<{ key: string; id: string }> {
  const res = await call<{ key: string; id: string }>(`${gate.url}/gate/api/keys`, {
    headers: { 'x-api-key': gate.adminKey },
    json: { name: 'teammate', ...body },
  });
  expect(res.status).toBe(201);
  return res.body;
}

async function sessionOf(key: string): Promise<string> {
  return sessionCookieOf(await call(`${gate.url}/gate/login`, { json: { key } }));
}

function navigate(url: string, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return call(url, { headers: { accept: BROWSER_ACCEPT, ...headers } });
}

/** What every refusal page must be: the status, HTML that runs nothing, and the page's words. */
function expectPage(res: JsonResponse, status: number, ...words: string[]): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.text).toMatch(/^<!doctype html>/);
  expect(res.text).not.toMatch(/<script|<img|<iframe|<link/i);
  // Every link stays on this gate.
  expect(res.text).not.toMatch(/(?:href|src)="(?!\/)/);
  for (const word of words) expect(res.text).toContain(word);
}

beforeAll(async () => {
  fake = await startFakeComfy({ nodeDelayMs: 5 });
  gate = await startTestGate({ upstream: fake.url, mode: 'required' });
});

afterAll(async () => {
  await gate.stop();
  await fake.close();
});

describe("refusals in ComfyUI's error shape", () => {
  it('gives a viewer’s POST /prompt the fields both ComfyUI frontends read, and keeps code and message', async () => {
    const { key } = await createKey({ role: 'viewer' });
    const res = await call<ComfyShapedError>(`${gate.url}/api/prompt`, {
      headers: { 'x-api-key': key },
      json: { prompt: SMALL_PROMPT, client_id: 'tab' },
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      error: {
        code: 'forbidden_scope',
        message: "POST /prompt needs scope 'generate'; this key (role viewer) has read",
        requestId: expect.stringMatching(/^[0-9a-z]+-[0-9a-z]+$/) as unknown,
        type: 'forbidden_scope',
        details: expect.stringContaining('Ask the person who runs this ComfyUI') as unknown,
        extra_info: {},
      },
      node_errors: {},
    });
  });

  it('shapes the limits’ 429s the same way, with Retry-After', async () => {
    const { key } = await createKey({ limits: { perMinute: 1 } });
    const send = () =>
      call<ComfyShapedError>(`${gate.url}/api/prompt`, {
        headers: { 'x-api-key': key },
        json: { prompt: SMALL_PROMPT },
      });
    expect((await send()).status).toBe(200);
    const refused = await send();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body.error).toMatchObject({ code: 'rate_limit_minute', type: 'rate_limit_minute', extra_info: {} });
    expect(refused.body.error.details).toContain('Wait a moment');
    expect(refused.body.node_errors).toEqual({});
  });
});

describe('refused browser navigations', () => {
  it('a revoked key’s session is sent to the sign-in page, which says why (revoked)', async () => {
    const { key, id } = await createKey({});
    const cookie = await sessionOf(key);
    await call(`${gate.url}/gate/api/keys/${id}`, {
      method: 'PATCH',
      headers: { 'x-api-key': gate.adminKey },
      json: { active: false },
    });
    const res = await navigate(`${gate.url}/`, { cookie });
    expect(res.status).toBe(302);
    expect(res.headers['location']).toBe('/gate/login?next=%2F&reason=revoked');
  });

  it('a rotated key’s session is sent to the sign-in page, keeping where the browser wanted to go', async () => {
    const { key, id } = await createKey({});
    const cookie = await sessionOf(key);
    await call(`${gate.url}/gate/api/keys/${id}/rotate`, { method: 'POST', headers: { 'x-api-key': gate.adminKey } });
    const res = await navigate(`${gate.url}/api/history?max_items=5`, { cookie });
    expect(res.status).toBe(302);
    expect(res.headers['location']).toBe('/gate/login?next=%2Fapi%2Fhistory%3Fmax_items%3D5&reason=rotated');
  });

  it('401 for a revoked key sent as a header by a browser: a page that says so and links to signing in', async () => {
    const { key, id } = await createKey({});
    await call(`${gate.url}/gate/api/keys/${id}`, {
      method: 'PATCH',
      headers: { 'x-api-key': gate.adminKey },
      json: { active: false },
    });
    const res = await navigate(`${gate.url}/`, { 'x-api-key': key });
    expectPage(res, 401, 'This API key has been deactivated', 'Sign in again', 'href="/gate/login?next=%2F"');
    expect(res.headers['www-authenticate']).toContain('Bearer');
  });

  it('403 for a route the role may not use, naming whom to ask', async () => {
    const { key } = await createKey({ role: 'viewer' });
    const res = await navigate(`${gate.url}/internal/folder_paths`, { cookie: await sessionOf(key) });
    expectPage(res, 403, 'Your key may not do this', 'the person who runs this ComfyUI', 'Sign in again');
  });

  it('429 with when to retry; an API caller on the same route still gets JSON', async () => {
    const { key } = await createKey({ limits: { perMinute: 1 } });
    const cookie = await sessionOf(key);
    expect((await navigate(`${gate.url}/api/queue`, { cookie })).status).toBe(200);
    const page = await navigate(`${gate.url}/api/queue`, { cookie });
    expectPage(page, 429, 'Too many requests this minute', 'You can try again in', 'Try again');
    expect(Number(page.headers['retry-after'])).toBeGreaterThan(0);
    const api = await call<ComfyShapedError>(`${gate.url}/api/queue`, { headers: { cookie, accept: '*/*' } });
    expect(api.status).toBe(429);
    expect(api.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(api.body.error.code).toBe('rate_limit_minute');
  });

  it('escapes what the request brought along', async () => {
    const { key } = await createKey({ role: 'viewer' });
    const res = await navigate(`${gate.url}/internal/folder_paths?x="><b>hi</b>`, { cookie: await sessionOf(key) });
    expect(res.status).toBe(403);
    expect(res.text).not.toContain('<b>hi</b>');
  });

  it('429 for a locked-out address, with the wait', async () => {
    const { key } = await createKey({});
    const cookie = await sessionOf(key);
    await call(`${gate.url}/gate/api/settings`, {
      method: 'PATCH',
      headers: { 'x-api-key': gate.adminKey },
      json: { lockout: { maxFailures: 2 } },
    });
    for (let i = 0; i < 2; i++) await call(`${gate.url}/api/queue`, { headers: { 'x-api-key': 'cgk_wrong' } });
    const res = await navigate(`${gate.url}/`, { cookie });
    // The locked-out page (auth/lockedOut.ts) says when, as a time and as a wait.
    expectPage(res, 429, 'Too many wrong keys', 'You may try again at', ' min ');
  });
});

describe('refused navigations when ComfyUI fails', () => {
  it('502 while ComfyUI is down, 504 when it is too slow; API callers keep JSON', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const deadPort = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const down = await startTestGate({ upstream: `http://127.0.0.1:${deadPort}` });
    const slowFake = await startFakeComfy();
    const slow = await startTestGate({ upstream: slowFake.url, upstreamTimeoutMs: 300 });
    try {
      expectPage(await navigate(`${down.url}/`), 502, 'ComfyUI is not reachable', 'Try again');
      expect((await call(`${down.url}/`)).headers['content-type']).toBe('application/json; charset=utf-8');
      slowFake.setResponseDelay(2_000);
      expectPage(await navigate(`${slow.url}/api/object_info`), 504, 'ComfyUI did not answer in time');
    } finally {
      slowFake.setResponseDelay(0);
      await Promise.all([down.stop(), slow.stop()]);
      await slowFake.close();
    }
  });
});
