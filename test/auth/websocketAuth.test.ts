import { beforeAll, describe, expect, it } from 'vitest';
import { call, sessionCookieOf } from '../helpers/http.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';
import { eventually } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';

const { fake, gate, admin } = withGateAndComfy({ gate: { mode: 'required' } });
let wsBase: string;

async function newKey(name: string): Promise<{ key: string; id: string }> {
  const res = await call<{ key: string; id: string }>(`${gate.url}/gate/api/keys`, {
    headers: { 'x-api-key': gate.adminKey },
    json: { name },
  });
  return res.body;
}

beforeAll(() => {
  wsBase = gate.url.replace('http', 'ws');
});

describe('WebSocket authentication', () => {
  it('refuses an upgrade without a key cheaply (401), before any upstream socket', async () => {
    const before = fake.upgrades.length;
    await expect(RecordingSocket.open(`${wsBase}/ws`)).rejects.toThrow('handshake answered 401');
    await expect(RecordingSocket.open(`${wsBase}/ws?token=cgk_wrong`)).rejects.toThrow('handshake answered 401');
    expect(fake.upgrades.length).toBe(before);
  });

  it.each([
    ['X-API-Key', (key: string) => ({ path: '/ws', headers: { 'x-api-key': key } })],
    ['Authorization: Bearer', (key: string) => ({ path: '/ws', headers: { authorization: `Bearer ${key}` } })],
    ['?token=', (key: string) => ({ path: `/ws?clientId=c1&token=${key}`, headers: {} })],
  ])('accepts %s on the upgrade and strips it', async (_label, make) => {
    const { key } = await newKey('ws');
    const { path, headers } = make(key);
    const socket = await RecordingSocket.open(`${wsBase}${path}`, { headers });
    await eventually(() => socket.received.length > 0, 'status message');
    const seen = fake.upgrades.at(-1)!;
    expect(seen.rawUrl).not.toContain('token');
    expect(seen.headers['x-api-key']).toBeUndefined();
    expect(seen.headers['authorization']).toBeUndefined();
    await socket.close();
  });

  it.each([
    ['revoked', (id: string) => admin('PATCH', `/gate/api/keys/${id}`, { active: false })],
    ['rotated', (id: string) => admin('POST', `/gate/api/keys/${id}/rotate`)],
    ['deleted', (id: string) => admin('DELETE', `/gate/api/keys/${id}`)],
  ])(
    'closes open sockets of a key within 1 s when it is %s, and refuses its next handshake',
    async (_label, change) => {
      const { key, id } = await newKey('to be cut off');
      const byHeader = await RecordingSocket.open(`${wsBase}/ws`, { headers: { 'x-api-key': key } });
      const cookie = sessionCookieOf(await call(`${gate.url}/gate/login`, { json: { key } }));
      const bySession = await RecordingSocket.open(`${wsBase}/ws`, { headers: { cookie } });
      const bystander = await RecordingSocket.open(`${wsBase}/ws`, { headers: { 'x-api-key': gate.adminKey } });

      const started = Date.now();
      await change(id);
      await eventually(() => byHeader.closed !== undefined && bySession.closed !== undefined, 'sockets closed', 1_000);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(byHeader.closed?.code).toBe(1008);
      expect(bystander.closed).toBeUndefined();
      await expect(RecordingSocket.open(`${wsBase}/ws`, { headers: { 'x-api-key': key } })).rejects.toThrow('401');
      expect((await call(`${gate.url}/api/prompt`, { headers: { cookie } })).status).toBe(401);
      await bystander.close();
    }
  );

  it('closes anonymous sockets when protection becomes required', async () => {
    expect((await admin('PATCH', '/gate/api/settings', { mode: 'optional' })).status).toBe(200);
    const anonymous = await RecordingSocket.open(`${wsBase}/ws`);
    expect((await admin('PATCH', '/gate/api/settings', { mode: 'required' })).status).toBe(200);
    await eventually(() => anonymous.closed !== undefined, 'anonymous socket closed', 1_000);
  });
});
