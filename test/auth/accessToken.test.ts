import { beforeAll, describe, expect, it } from 'vitest';
import { call, sessionCookieOf } from '../helpers/http.js';
import { callerRequests, withGateAndComfy } from '../helpers/gateAndComfy.js';
import { eventually } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';

const { fake, gate } = withGateAndComfy({ gate: { mode: 'required' } });

beforeAll(async () => {
  fake.addFile('output', 'token.png', Buffer.from('png bytes'));
  // A file put into ComfyUI's folder by hand has no owner; team isolation's file privacy is
  // tested in test/isolation/filePrivacy.test.ts.
  const shown = await call(`${gate.url}/gate/api/settings`, {
    method: 'PATCH',
    headers: { 'x-api-key': gate.adminKey },
    json: { unownedFiles: 'visible' },
  });
  expect(shown.status).toBe(200);
});

async function newKeyAndToken(ttlSeconds?: number) {
  const created = await call<{ key: string; id: string }>(`${gate.url}/gate/api/keys`, {
    headers: { 'x-api-key': gate.adminKey },
    json: { name: 'tokens' },
  });
  const minted = await call<{ token: string; expiresAt: string }>(`${gate.url}/gate/api/token`, {
    headers: { 'x-api-key': created.body.key },
    json: ttlSeconds ? { ttlSeconds } : {},
  });
  expect(minted.status).toBe(200);
  return { ...created.body, ...minted.body };
}

describe('short-lived access tokens', () => {
  it('mints a 15-minute token for the caller that works for /view and /ws via ?token=', async () => {
    const { token, expiresAt } = await newKeyAndToken();
    const ttl = Date.parse(expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(14 * 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);

    const image = await call(`${gate.url}/api/view?filename=token.png&type=output&token=${token}`);
    expect(image.status).toBe(200);
    expect(image.text).toBe('png bytes');
    expect(callerRequests(fake).at(-1)!.rawUrl).toBe('/api/view?filename=token.png&type=output');

    const socket = await RecordingSocket.open(`${gate.url.replace('http', 'ws')}/ws?clientId=t&token=${token}`);
    await eventually(() => socket.received.length > 0, 'status message');
    expect(fake.upgrades.at(-1)!.rawUrl).toBe('/ws?clientId=t');
    await socket.close();
  });

  it('dies with its key', async () => {
    const { token, id } = await newKeyAndToken();
    const socket = await RecordingSocket.open(`${gate.url.replace('http', 'ws')}/ws?token=${token}`);
    await call(`${gate.url}/gate/api/keys/${id}`, { method: 'DELETE', headers: { 'x-api-key': gate.adminKey } });
    await eventually(() => socket.closed !== undefined, 'socket closed', 1_000);
    expect((await call(`${gate.url}/api/view?filename=token.png&type=output&token=${token}`)).status).toBe(401);
  });

  it('needs a signed-in caller and refuses a tampered token', async () => {
    expect((await call(`${gate.url}/gate/api/token`, { json: {} })).status).toBe(401);
    const { token } = await newKeyAndToken();
    const tampered = token.slice(0, -2) + (token.endsWith('A') ? 'BB' : 'AA');
    expect((await call(`${gate.url}/api/prompt?token=${tampered}`)).status).toBe(401);
    expect(
      (await call(`${gate.url}/gate/api/token`, { headers: { 'x-api-key': gate.adminKey }, json: { ttlSeconds: 5 } }))
        .status
    ).toBe(400);
  });
});

describe('what each kind of token may stand in for', () => {
  async function sessionCookieFor(key: string): Promise<string> {
    return sessionCookieOf(await call(`${gate.url}/gate/login`, { json: { key } }));
  }

  it('an access token cannot mint another token, by ?token= or bearer', async () => {
    const { token } = await newKeyAndToken();
    const requests: Array<{ url: string; headers: Record<string, string> }> = [
      { url: `${gate.url}/gate/api/token?token=${token}`, headers: {} },
      { url: `${gate.url}/gate/api/token`, headers: { authorization: `Bearer ${token}` } },
    ];
    for (const request of requests) {
      const minted = await call<{ error: { code: string; message: string } }>(request.url, {
        headers: request.headers,
        json: { ttlSeconds: 86_400 },
      });
      expect(minted.status).toBe(403);
      expect(minted.body.error.code).toBe('forbidden');
      expect(minted.body.error.message).toMatch(/access token cannot mint/i);
    }
  });

  it('a signed-in browser and a key still mint tokens', async () => {
    const { key } = await newKeyAndToken();
    const cookie = await sessionCookieFor(key);
    const viaCookie = await call(`${gate.url}/gate/api/token`, { headers: { cookie, origin: gate.url }, json: {} });
    expect(viaCookie.status).toBe(200);
  });

  it('an access token is not accepted as the session cookie', async () => {
    const { token } = await newKeyAndToken();
    const cookie = `comfygate_session=${token}`;
    const proxied = await call<{ error: { code: string } }>(`${gate.url}/api/prompt`, { headers: { cookie } });
    expect(proxied.status).toBe(401);
    expect(proxied.body.error.code).toBe('unauthorized');
    expect((await call(`${gate.url}/gate/api/whoami`, { headers: { cookie } })).status).toBe(401);
  });

  it('a session cookie is not accepted as ?token= or bearer: 7-day tokens stay out of URLs', async () => {
    const { key } = await newKeyAndToken();
    const session = (await sessionCookieFor(key)).split('=')[1]!;
    expect((await call(`${gate.url}/api/prompt?token=${session}`)).status).toBe(401);
    expect((await call(`${gate.url}/api/prompt`, { headers: { authorization: `Bearer ${session}` } })).status).toBe(
      401
    );
    expect((await call(`${gate.url}/api/prompt`, { headers: { cookie: `comfygate_session=${session}` } })).status).toBe(
      200
    );
  });
});
