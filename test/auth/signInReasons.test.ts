import { beforeAll, describe, expect, it } from 'vitest';
import { call, sessionCookieOf } from '../helpers/http.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';

const { gate } = withGateAndComfy({ gate: { mode: 'required' } });

beforeAll(async () => {
  // Every refusal here counts as a wrong credential from 127.0.0.1; the lockout is not what is tested.
  const res = await call(`${gate.url}/gate/api/settings`, {
    method: 'PATCH',
    headers: { 'x-api-key': gate.adminKey },
    json: { lockout: { maxFailures: 1000 } },
  });
  expect(res.status).toBe(200);
});

const ASK = 'the person who runs this ComfyUI';

async function createKey(name: string): Promise<{ id: string; key: string }> {
  const res = await call<{ id: string; key: string }>(`${gate.url}/gate/api/keys`, {
    headers: { 'x-api-key': gate.adminKey },
    json: { name, expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
  });
  expect(res.status).toBe(201);
  return res.body;
}

function admin(path: string, method: string, json?: unknown) {
  return call(`${gate.url}/gate/api/keys/${path}`, { method, headers: { 'x-api-key': gate.adminKey }, json });
}

async function signIn(key: string): Promise<string> {
  return sessionCookieOf(await call(`${gate.url}/gate/login`, { json: { key } }));
}

function postLogin(key: string) {
  return call(`${gate.url}/gate/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: gate.url },
    body: new URLSearchParams({ key, next: '/' }).toString(),
  });
}

/** The alert on the sign-in page, as text. */
function alertOf(html: string): string | undefined {
  return /<p class="error" role="alert">([^]*?)<\/p>/.exec(html)?.[1]?.replace(/<br>/g, '\n');
}

describe('the sign-in page says why a key stopped working', () => {
  it.each([
    ['revoked', `Your key was revoked (deactivated).\nAsk ${ASK} to activate it again or for a new key.`],
    ['expired', `Your key has expired.\nAsk ${ASK} for a new key or a later expiry.`],
    ['rotated', `replaced by a new one (rotated); the old one no longer works.\nAsk ${ASK} for the new key`],
    ['deleted', `Your key was deleted.\nAsk ${ASK} for a new key.`],
    ['signed_out', 'You were signed out everywhere'],
    ['session_expired', 'Your session has ended (a sign-in lasts 7 days). Your key still works.\nSign in again'],
  ])('GET /gate/login?reason=%s shows what happened and what to do', async (reason, text) => {
    const res = await call(`${gate.url}/gate/login?next=%2F&reason=${reason}`);
    expect(res.status).toBe(200);
    expect(alertOf(res.text)).toContain(text);
    expect(res.text).toContain('<form method="post" action="/gate/login">');
  });

  it('ignores a reason it does not know, and never echoes it', async () => {
    const res = await call(`${gate.url}/gate/login?reason=%3Cb%3Ehi`);
    expect(res.status).toBe(200);
    expect(alertOf(res.text)).toBeUndefined();
    expect(res.text).not.toContain('<b>hi');
  });

  it('POST /gate/login with a revoked key says it was deactivated and whom to ask', async () => {
    const { id, key } = await createKey('revoked at login');
    await admin(id, 'PATCH', { active: false });
    const res = await postLogin(key);
    expect(res.status).toBe(401);
    expect(alertOf(res.text)).toBe(
      `This API key has been deactivated.\nAsk ${ASK} to activate it again or for a new key.`
    );
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('POST /gate/login with an expired key says since when, and whom to ask', async () => {
    const { id, key } = await createKey('expired at login');
    await admin(id, 'PATCH', { expiresAt: '2024-03-01T09:30:00Z' });
    const res = await postLogin(key);
    expect(res.status).toBe(401);
    expect(alertOf(res.text)).toBe(
      `This API key expired on 2024-03-01 09:30 UTC.\nAsk ${ASK} for a new key or a later expiry.`
    );
  });

  it('a wrong key gets no advice about a key it does not name', async () => {
    const res = await postLogin('cgk_nope');
    expect(alertOf(res.text)).toBe(
      'The API key is malformed (its checksum does not match): check for a copy-paste typo.'
    );
  });
});

describe('a browser whose session stopped working is sent to the sign-in page with the reason', () => {
  it.each([
    ['revoked', (id: string) => admin(id, 'PATCH', { active: false })],
    ['expired', (id: string) => admin(id, 'PATCH', { expiresAt: '2024-03-01T09:30:00Z' })],
    [
      'rotated',
      (id: string) =>
        call(`${gate.url}/gate/api/keys/${id}/rotate`, { method: 'POST', headers: { 'x-api-key': gate.adminKey } }),
    ],
    ['deleted', (id: string) => admin(id, 'DELETE')],
    [
      'signed_out',
      (id: string) =>
        call(`${gate.url}/gate/api/keys/${id}/sessions/revoke`, {
          method: 'POST',
          headers: { 'x-api-key': gate.adminKey },
        }),
    ],
  ])('%s: a page load redirects there; the dashboard API says it in X-ComfyGate-Reason', async (reason, change) => {
    const { id, key } = await createKey(`session ${reason}`);
    const cookie = await signIn(key);
    const before = await call(`${gate.url}/queue`, { headers: { cookie, accept: 'text/html' } });
    expect(before.status).toBe(200);

    const changed = await change(id);
    expect(changed.status).toBeLessThan(300);

    const page = await call(`${gate.url}/queue?x=1`, { headers: { cookie, accept: 'text/html' } });
    expect(page.status).toBe(302);
    expect(page.headers['location']).toBe(`/gate/login?next=%2Fqueue%3Fx%3D1&reason=${reason}`);
    const api = await call(`${gate.url}/gate/api/whoami`, { headers: { cookie } });
    expect(api.status).toBe(401);
    expect(api.headers['x-comfygate-reason']).toBe(reason);
    // A script's fetch with the same cookie is still answered 401 JSON, not redirected.
    const fetchLike = await call(`${gate.url}/api/queue`, { headers: { cookie } });
    expect(fetchLike.status).toBe(401);
    expect(fetchLike.headers['x-comfygate-reason']).toBe(reason);
  });

  it('a session cookie that is no longer valid (signature) is reported as an ended session', async () => {
    const page = await call(`${gate.url}/`, {
      headers: { cookie: 'comfygate_session=eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.bad', accept: 'text/html' },
    });
    expect(page.status).toBe(302);
    expect(page.headers['location']).toBe('/gate/login?next=%2F&reason=session_expired');
  });

  it('a key sent as a header is never told more than 401 with its reason header: no redirect for scripts', async () => {
    const { id, key } = await createKey('header revoked');
    await admin(id, 'PATCH', { active: false });
    const res = await call(`${gate.url}/`, { headers: { 'x-api-key': key, accept: 'text/html' } });
    expect(res.status).toBe(401);
    expect(res.headers['x-comfygate-reason']).toBe('revoked');
  });
});
