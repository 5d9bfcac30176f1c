import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { call } from '../helpers/http.js';
import { eventually, startTestGate, type TestGate } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';

let fake: FakeComfy;
let gate: TestGate;

beforeAll(async () => {
  fake = await startFakeComfy();
  gate = await startTestGate({ upstream: fake.url, mode: 'required' });
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

afterAll(async () => {
  await gate.stop();
  await fake.close();
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
    expect(fake.requests.at(-1)!.rawUrl).toBe('/api/view?filename=token.png&type=output');

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
