import { FormData, request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, sessionCookieOf } from '../helpers/http.js';
import { callerRequests, withGateAndComfy } from '../helpers/gateAndComfy.js';
import { eventually } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';

const { fake, gate } = withGateAndComfy({ gate: { mode: 'required' } });
let teammateKey: string;

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

async function loginWithForm(key: string, next = '/') {
  return call(`${gate.url}/gate/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: gate.url },
    body: form({ key, next }),
  });
}

beforeAll(async () => {
  const created = await call<{ key: string }>(`${gate.url}/gate/api/keys`, {
    headers: { 'x-api-key': gate.adminKey },
    json: { name: 'Bob' },
  });
  teammateKey = created.body.key;
});

describe('login page', () => {
  it('serves a sign-in form that keeps a safe next', async () => {
    const res = await call(`${gate.url}/gate/login?next=%2Fqueue%3Fa%3D1`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('<form method="post" action="/gate/login">');
    expect(res.text).toContain('name="next" value="/queue?a=1"');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('signs in with a key: 303 to next with an HttpOnly, SameSite=Lax session cookie', async () => {
    const res = await loginWithForm(teammateKey, '/queue');
    expect(res.status).toBe(303);
    expect(res.headers['location']).toBe('/queue');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^comfygate_session=eyJ[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=604800$/);
    expect(setCookie).not.toContain('Secure');
  });

  it.each([
    '//evil.example/x',
    'https://evil.example/',
    '/\\evil.example',
    'javascript:alert(1)',
    '/%0d%0aSet-Cookie:x',
  ])('refuses to redirect to %s after login', async (next) => {
    const res = await loginWithForm(teammateKey, next);
    expect(res.status).toBe(303);
    const location = String(res.headers['location']);
    expect(location.startsWith('/')).toBe(true);
    expect(location.startsWith('//')).toBe(false);
    expect(location).not.toMatch(/evil|javascript|\r|\n/);
  });

  // The browser resolves Location against the gate: a path it can read as `//host` leaves the gate.
  it.each([
    '/.//evil.example/x',
    '/..//evil.example/x',
    '/%2e//evil.example/x',
    '/%2E%2E//evil.example/x',
    '/gate/..//evil.example/x',
    '/gate/../..//evil.example/x',
    '/./\\evil.example/x',
    '/.%5c/evil.example/x',
    '/%2e/%5c/evil.example/x',
    '/.///evil.example/x',
    '/%09/evil.example/x',
  ])('a path that normalises to another host (%s) redirects on this gate', async (next) => {
    const res = await loginWithForm(teammateKey, next);
    expect(res.status).toBe(303);
    const location = String(res.headers['location']);
    expect(location).toMatch(/^\/(?![/\\])/);
    expect(new URL(location, gate.url).origin).toBe(gate.url);
    // What the page would send back as next must be just as safe.
    const page = await call(`${gate.url}/gate/login?next=${encodeURIComponent(next)}`);
    const hidden = /name="next" value="([^"]*)"/.exec(page.text)?.[1] ?? '';
    expect(
      new URL(
        hidden.replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c))),
        gate.url
      ).origin
    ).toBe(gate.url);
  });

  it('keeps a harmless next with dot segments, resolved', async () => {
    const res = await loginWithForm(teammateKey, '/gate/../queue?x=1');
    expect(res.headers['location']).toBe('/queue?x=1');
  });

  it('shows the form again with the reason when the key is wrong', async () => {
    const res = await loginWithForm('cgk_nope');
    expect(res.status).toBe(401);
    expect(res.text).toContain('role="alert"');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('accepts JSON too and answers with who signed in', async () => {
    const res = await call(`${gate.url}/gate/login`, { json: { key: teammateKey } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Bob', role: 'creator' });
    expect(sessionCookieOf(res)).toMatch(/^comfygate_session=/);
  });

  it('refuses a login form posted from another site', async () => {
    const res = await call(`${gate.url}/gate/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: form({ key: teammateKey }),
    });
    expect(res.status).toBe(403);
  });
});

describe('the ComfyUI web UI rides on the session cookie', () => {
  it('fetches, images and the WebSocket work; the cookie never reaches ComfyUI', async () => {
    const cookie = sessionCookieOf(await loginWithForm(teammateKey));
    const page = await call(`${gate.url}/`, { headers: { cookie, accept: 'text/html' } });
    expect(page.status).toBe(200);

    const queued = await call<{ prompt_id: string }>(`${gate.url}/api/prompt`, {
      headers: { cookie: `${cookie}; comfy_theme=dark`, origin: gate.url },
      json: { prompt: SMALL_PROMPT },
    });
    expect(queued.status).toBe(200);
    expect(callerRequests(fake).at(-1)!.headers['cookie']).toBe('comfy_theme=dark');

    // An image of the teammate's own (team isolation shows a creator no other files).
    const form = new FormData();
    form.append('image', new Blob([Buffer.from('img')], { type: 'image/png' }), 'cookie.png');
    const uploaded = await request(`${gate.url}/api/upload/image`, {
      method: 'POST',
      body: form,
      headers: { cookie, origin: gate.url },
    });
    expect(uploaded.statusCode).toBe(200);
    await uploaded.body.dump();
    const image = await call(`${gate.url}/api/view?filename=cookie.png&type=input`, { headers: { cookie } });
    expect(image.status).toBe(200);

    const socket = await RecordingSocket.open(`${gate.url.replace('http', 'ws')}/ws?clientId=tab`, {
      headers: { cookie },
      origin: gate.url,
    });
    await eventually(() => socket.received.length > 0, 'status message');
    expect(fake.upgrades.at(-1)!.headers['cookie']).toBeUndefined();
    await socket.close();
  });

  it('logout clears the cookie, ends the session server-side and closes its WebSockets', async () => {
    const cookie = sessionCookieOf(await loginWithForm(teammateKey));
    const socket = await RecordingSocket.open(`${gate.url.replace('http', 'ws')}/ws`, { headers: { cookie } });
    const out = await call(`${gate.url}/gate/logout`, {
      method: 'POST',
      headers: { cookie, origin: gate.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(out.status).toBe(303);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    await eventually(() => socket.closed !== undefined, 'socket closed', 1_000);
    expect(socket.closed?.code).toBe(1008);
    // A copy of the old cookie is worthless now.
    expect((await call(`${gate.url}/api/prompt`, { headers: { cookie } })).status).toBe(401);
  });
});

describe('sign out everywhere', () => {
  it("closes the WebSockets of the key's sessions and tokens, not those opened with the key itself", async () => {
    const created = await call<{ key: string; id: string }>(`${gate.url}/gate/api/keys`, {
      headers: { 'x-api-key': gate.adminKey },
      json: { name: 'Ws' },
    });
    const { key, id } = created.body;
    const cookie = sessionCookieOf(await loginWithForm(key));
    const ws = gate.url.replace('http', 'ws');
    const viaCookie = await RecordingSocket.open(`${ws}/ws?clientId=ws-cookie`, { headers: { cookie } });
    const viaKey = await RecordingSocket.open(`${ws}/ws?clientId=ws-key`, { headers: { 'x-api-key': key } });

    const ended = await call(`${gate.url}/gate/api/keys/${id}/sessions/revoke`, {
      method: 'POST',
      headers: { 'x-api-key': gate.adminKey },
    });
    expect(ended.status).toBe(200);
    await eventually(() => viaCookie.closed !== undefined, 'session socket closed', 1_000);
    expect(viaCookie.closed?.code).toBe(1008);
    expect(viaKey.closed).toBeUndefined();
    expect((await call(`${gate.url}/api/prompt`, { headers: { cookie } })).status).toBe(401);
    await viaKey.close();
  });
});
