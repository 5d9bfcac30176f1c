import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { call, sessionCookieOf } from '../helpers/http.js';
import { eventually, startTestGate, type TestGate } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';

let fake: FakeComfy;
let gate: TestGate;
let alice: { key: string; id: string };
let token: string;
let dataDir: string;

function admin<T = unknown>(method: string, path: string, json?: unknown) {
  return call<T>(`${gate.url}${path}`, { method, headers: { 'x-api-key': gate.adminKey }, json });
}

interface UsageRow {
  keyId: string;
  requests: number;
  byStatus: Record<string, number>;
  wsSessions: number;
  bytesOut: number;
}

beforeAll(async () => {
  fake = await startFakeComfy();
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-observe-'));
  gate = await startTestGate({ upstream: fake.url, mode: 'required', dataDir });
  alice = (await admin<{ key: string; id: string }>('POST', '/gate/api/keys', { name: 'Alice' })).body;
  token = (
    await call<{ token: string }>(`${gate.url}/gate/api/token`, { headers: { 'x-api-key': alice.key }, json: {} })
  ).body.token;
});

afterAll(async () => {
  await gate.stop();
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('usage, request log and audit through a running gate', () => {
  it('counts exactly the requests made, per key and status class, HTTP and WebSocket', async () => {
    const stream = await request(`${gate.url}/gate/api/logs/stream`, { headers: { 'x-api-key': gate.adminKey } });
    const events: string[] = [];
    stream.body.on('data', (chunk: Buffer) => events.push(chunk.toString()));

    for (let i = 0; i < 4; i++)
      expect((await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': alice.key } })).status).toBe(200);
    for (let i = 0; i < 2; i++)
      expect((await call(`${gate.url}/nope-${i}`, { headers: { 'x-api-key': alice.key } })).status).toBe(404);
    expect((await call(`${gate.url}/api/free`, { headers: { 'x-api-key': alice.key }, json: {} })).status).toBe(403);
    const socket = await RecordingSocket.open(`${gate.url.replace('http', 'ws')}/ws?clientId=u&token=${token}`);
    await eventually(() => socket.received.length > 0, 'status message');
    await socket.close();

    await eventually(() => events.join('').split('event: request').length - 1 >= 8, 'live SSE events', 3_000);
    stream.body.destroy();

    const usage = await admin<{ days: UsageRow[] }>('GET', `/gate/api/usage/all?key=${alice.id}`);
    const row = usage.body.days.find((d) => d.keyId === alice.id)!;
    expect(row.requests).toBe(8);
    expect(row.byStatus).toEqual({ '2xx': 4, '3xx': 0, '4xx': 3, '5xx': 0 });
    expect(row.wsSessions).toBe(1);
    expect(row.bytesOut).toBeGreaterThan(0);

    const own = await call<{ days: UsageRow[] }>(`${gate.url}/gate/api/usage`, { headers: { 'x-api-key': alice.key } });
    expect(own.body.days.every((d) => d.keyId === alice.id)).toBe(true);

    const logs = await admin<{ items: Array<{ keyId: string; status: number; path: string; kind: string }> }>(
      'GET',
      `/gate/api/logs?key=${alice.id}&limit=20`
    );
    expect(logs.body.items.filter((l) => l.kind === 'http')).toHaveLength(7);
    expect(logs.body.items.some((l) => l.kind === 'ws' && l.path === '/ws')).toBe(true);
    expect(logs.body.items.find((l) => l.status === 403)).toMatchObject({ path: '/free' });
  });

  it('audits key changes, logins, failed logins and settings', async () => {
    await call(`${gate.url}/gate/login`, { json: { key: 'cgk_wrong' } });
    const cookie = sessionCookieOf(await call(`${gate.url}/gate/login`, { json: { key: alice.key } }));
    expect(cookie).toBeTruthy();
    await admin('PATCH', '/gate/api/settings', { mode: 'optional' });
    await admin('PATCH', '/gate/api/settings', { mode: 'required' });
    await admin('POST', `/gate/api/keys/${alice.id}/rotate`);
    const audit = await admin<{
      items: Array<{ action: string; actorKeyId: string | null; clientIp: string | null; target?: string }>;
    }>('GET', '/gate/api/audit?limit=50');
    const actions = audit.body.items.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'key.created',
        'login.failed',
        'login',
        'settings.updated',
        'mode.changed',
        'key.rotated',
      ])
    );
    expect(audit.body.items.find((e) => e.action === 'key.rotated')).toMatchObject({
      target: alice.id,
      clientIp: '127.0.0.1',
    });
    expect(audit.body.items.find((e) => e.action === 'key.rotated')!.actorKeyId).not.toBeNull();
  });

  it('never writes a key or token into any log or usage file', async () => {
    await call(`${gate.url}/api/prompt?token=${alice.key}`);
    await call(`${gate.url}/api/view?filename=x.png&token=${token}`);
    await gate.stop();
    const logsDir = join(gate.dataDir, 'logs');
    const files = [...(await readdir(logsDir)).map((f) => join(logsDir, f)), join(gate.dataDir, 'usage.json')];
    expect(files.some((f) => f.includes('requests-'))).toBe(true);
    expect(files.some((f) => f.includes('audit-'))).toBe(true);
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      expect(text).not.toContain(alice.key);
      expect(text).not.toContain(gate.adminKey);
      expect(text).not.toContain(token);
      expect(text).not.toMatch(/cgk_[0-9A-Za-z]{20,}/);
    }
    // Usage was flushed on shutdown.
    const usage = JSON.parse(await readFile(join(gate.dataDir, 'usage.json'), 'utf8')) as {
      days: Record<string, Record<string, unknown>>;
    };
    expect(Object.values(usage.days).some((day) => alice.id in day)).toBe(true);
  });
});
