import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../server/keys/keyFormat.js';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { callerRequests } from '../helpers/gateAndComfy.js';
import { call } from '../helpers/http.js';
import { startTestGate, type TestGate } from '../helpers/testGate.js';

let fake: FakeComfy;
let gate: TestGate;
let creatorKey: string;
let creatorId: string;

async function admin<T>(method: string, path: string, json?: unknown) {
  return call<T>(`${gate.url}${path}`, { method, headers: { 'x-api-key': gate.adminKey }, json });
}

async function setMode(mode: string, publicPaths?: string[]) {
  const res = await admin('PATCH', '/gate/api/settings', publicPaths ? { mode, publicPaths } : { mode });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  fake = await startFakeComfy();
  gate = await startTestGate({ upstream: fake.url, mode: 'required' });
  const created = await admin<{ key: string; id: string }>('POST', '/gate/api/keys', {
    name: 'Alice',
    role: 'creator',
  });
  creatorKey = created.body.key;
  creatorId = created.body.id;
});

afterAll(async () => {
  await gate.stop();
  await fake.close();
});

describe('mode required', () => {
  it('refuses a script without a key: 401 JSON with WWW-Authenticate, nothing forwarded', async () => {
    const before = callerRequests(fake).length;
    const res = await call(`${gate.url}/api/prompt`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="ComfyGate"');
    expect(res.body).toMatchObject({ error: { code: 'unauthorized' } });
    expect(callerRequests(fake).length).toBe(before);
  });

  it('sends a browser navigation without a session to the login page, keeping where it was going', async () => {
    const res = await call(`${gate.url}/some/page?x=1`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(res.status).toBe(302);
    expect(res.headers['location']).toBe(`/gate/login?next=${encodeURIComponent('/some/page?x=1')}`);
  });

  it.each([
    ['X-API-Key', (key: string) => ({ headers: { 'x-api-key': key }, path: '/api/prompt' })],
    ['Authorization: Bearer', (key: string) => ({ headers: { authorization: `Bearer ${key}` }, path: '/api/prompt' })],
    ['?token=', (key: string) => ({ headers: {}, path: `/api/prompt?token=${key}` })],
  ])('accepts a valid key in %s and strips it before ComfyUI', async (_label, make) => {
    const { headers, path } = make(creatorKey);
    const res = await call(`${gate.url}${path}`, { headers: { ...headers, cookie: 'theme=dark' } });
    expect(res.status).toBe(200);
    const seen = callerRequests(fake).at(-1)!;
    expect(seen.rawUrl).toBe('/api/prompt');
    expect(seen.headers['x-api-key']).toBeUndefined();
    expect(seen.headers['authorization']).toBeUndefined();
    expect(seen.headers['cookie']).toBe('theme=dark');
  });

  it('keeps other query parameters byte for byte when removing ?token=', async () => {
    fake.addFile('output', 'a b.png', Buffer.from('png'));
    // The admin's key: under team isolation a creator sees only files of their own.
    const res = await call(`${gate.url}/api/view?filename=a%20b.png&token=${gate.adminKey}&type=output&rand=0.5`);
    expect(res.status).toBe(200);
    expect(callerRequests(fake).at(-1)!.rawUrl).toBe('/api/view?filename=a%20b.png&type=output&rand=0.5');
  });

  it.each([
    ['an unknown key', () => generateKey(), /not valid/],
    [
      'a key with a typo (bad checksum)',
      () => creatorKey.slice(0, -1) + (creatorKey.endsWith('A') ? 'B' : 'A'),
      /checksum/,
    ],
    ['garbage', () => 'hunter2', /not valid/],
  ])('refuses %s with 401 invalid_token', async (_label, key, message) => {
    const res = await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': key() } });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    expect((res.body as { error: { message: string } }).error.message).toMatch(message);
  });

  it('refuses a deactivated key at once, and accepts it again after activation', async () => {
    expect((await admin('PATCH', `/gate/api/keys/${creatorId}`, { active: false })).status).toBe(200);
    const refused = await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': creatorKey } });
    expect(refused.status).toBe(401);
    expect(refused.text).toContain('deactivated');
    expect((await admin('PATCH', `/gate/api/keys/${creatorId}`, { active: true })).status).toBe(200);
    expect((await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': creatorKey } })).status).toBe(200);
  });

  it('refuses an expired key', async () => {
    const { body } = await admin<{ key: string; id: string }>('POST', '/gate/api/keys', {
      name: 'Short-lived',
      expiresAt: new Date(Date.now() + 300).toISOString(),
    });
    expect((await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': body.key } })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const res = await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': body.key } });
    expect(res.status).toBe(401);
    expect(res.text).toContain('expired');
  });

  it('refuses a rotated-away key and accepts the new one', async () => {
    const { body } = await admin<{ key: string; id: string }>('POST', '/gate/api/keys', { name: 'Rotating' });
    const rotated = await admin<{ key: string; id: string }>('POST', `/gate/api/keys/${body.id}/rotate`);
    expect(rotated.body.id).toBe(body.id);
    expect(rotated.body.key).not.toBe(body.key);
    expect((await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': body.key } })).status).toBe(401);
    expect((await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': rotated.body.key } })).status).toBe(200);
  });

  it('lets configured public paths through without a key, matched on the normalized path', async () => {
    await setMode('required', ['/system_stats', '/extensions/*']);
    try {
      expect((await call(`${gate.url}/system_stats`)).status).toBe(200);
      expect((await call(`${gate.url}/api/system_stats`)).status).toBe(200);
      expect((await call(`${gate.url}/extensions/core/x.js`)).status).not.toBe(401);
      expect((await call(`${gate.url}/extensions/../prompt`)).status).toBe(401);
      expect((await call(`${gate.url}/api/prompt`)).status).toBe(401);
    } finally {
      await setMode('required', []);
    }
  });
});

describe('mode optional and off', () => {
  it('optional: no credential passes as anonymous, a wrong one is still 401', async () => {
    await setMode('optional');
    try {
      expect((await call(`${gate.url}/api/prompt`)).status).toBe(200);
      expect((await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': 'cgk_wrong' } })).status).toBe(401);
      expect((await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': creatorKey } })).status).toBe(200);
    } finally {
      await setMode('required');
    }
  });

  it('off: pure pass-through, yet credentials are still stripped', async () => {
    await setMode('off');
    try {
      expect((await call(`${gate.url}/api/prompt`)).status).toBe(200);
      const res = await call(`${gate.url}/api/prompt`, {
        headers: { 'x-api-key': 'cgk_wrong', authorization: 'Bearer x' },
      });
      expect(res.status).toBe(200);
      expect(callerRequests(fake).at(-1)!.headers['x-api-key']).toBeUndefined();
      expect(callerRequests(fake).at(-1)!.headers['authorization']).toBeUndefined();
    } finally {
      await setMode('required');
    }
  });

  it('applies a mode change to the very next request', async () => {
    await setMode('off');
    expect((await call(`${gate.url}/api/prompt`)).status).toBe(200);
    await setMode('required');
    expect((await call(`${gate.url}/api/prompt`)).status).toBe(401);
  });
});

describe('legacy COMFYGATE_API_KEY', () => {
  it('acts as an admin key, compared in constant time', async () => {
    const legacy = await startTestGate({
      upstream: fake.url,
      mode: 'required',
      legacyApiKey: 'a-long-legacy-secret-value',
    });
    try {
      const ok = await call(`${legacy.url}/gate/api/keys`, {
        headers: { authorization: 'Bearer a-long-legacy-secret-value' },
      });
      expect(ok.status).toBe(200);
      expect(
        (await call(`${legacy.url}/api/prompt`, { headers: { 'x-api-key': 'a-long-legacy-secret-value' } })).status
      ).toBe(200);
      expect(
        (await call(`${legacy.url}/api/prompt`, { headers: { 'x-api-key': 'a-long-legacy-secret-valuX' } })).status
      ).toBe(401);
    } finally {
      await legacy.stop();
    }
  });
});
