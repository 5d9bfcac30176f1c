import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { eventually, startTestGate, type TestGate } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';
import { applyToRunningGate } from '../../server/cli/runningGate.js';
import { readRuntimeRecord } from '../../server/runtime/runtimeRecord.js';

let fake: FakeComfy;
let gate: TestGate;
let cert: string;
let trusting: Agent;

beforeAll(async () => {
  fake = await startFakeComfy();
  gate = await startTestGate({ upstream: fake.url, mode: 'required', https: true });
  cert = await readFile(join(gate.dataDir, 'tls', 'cert.pem'), 'utf8');
  // The teammate who checked the fingerprint: trusts exactly this certificate, verification on.
  trusting = new Agent({ connect: { ca: cert } });
});

afterAll(async () => {
  await trusting.close();
  await gate.stop();
  await fake.close();
});

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await request(`${gate.url}${path}`, { dispatcher: trusting, headers });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

describe('a gate serving HTTPS', () => {
  it('answers over TLS with its certificate and proxies to ComfyUI', async () => {
    expect(gate.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await get('/gate/healthz')).status).toBe(200);
    const stats = await get('/api/system_stats', { 'x-api-key': gate.adminKey });
    expect(stats.status).toBe(200);
    expect(JSON.parse(stats.text)).toHaveProperty('system');
    // An unverified client is not let in silently: the default trust store does not know a self-signed certificate.
    await expect(request(`${gate.url}/gate/healthz`)).rejects.toThrow(/self-signed|certificate/i);
  });

  it('sets the session cookie Secure (with the __Host- prefix) and accepts it back', async () => {
    const res = await request(`${gate.url}/gate/login`, {
      method: 'POST',
      dispatcher: trusting,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: gate.adminKey }),
    });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^__Host-comfygate_session=[^;]+;.*; Secure/);
    const cookie = setCookie.split(';')[0]!;
    expect((await get('/api/queue', { cookie })).status).toBe(200);
  });

  it('relays WebSockets as wss', async () => {
    const ws = await RecordingSocket.open(`${gate.url.replace('https:', 'wss:')}/ws?clientId=tls-client`, {
      headers: { 'x-api-key': gate.adminKey },
      ca: cert,
    });
    await eventually(() => ws.json().some((m) => (m as { type?: string }).type === 'status'), 'the status message');
    await ws.close();
  });

  it('gives https share links and shows the certificate fingerprint on the status API and the sign-in page', async () => {
    const fingerprint = new X509Certificate(cert).fingerprint256;
    expect(gate.state.share.url).toMatch(/^https:\/\//);
    expect(gate.state.tls).toMatchObject({ fingerprint256: fingerprint, selfSigned: true });
    const status = JSON.parse((await get('/gate/api/status', { 'x-api-key': gate.adminKey })).text) as {
      tls: { fingerprint256: string };
      share: { url: string };
    };
    expect(status.tls.fingerprint256).toBe(fingerprint);
    expect(status.share.url).toMatch(/^https:\/\//);
    const page = await get('/gate/login', { accept: 'text/html' });
    expect(page.text).toContain(fingerprint);
  });

  it('leaves an https runtime record the CLI reaches with the gate\u2019s own certificate', async () => {
    const record = await readRuntimeRecord(gate.dataDir);
    expect(record).toMatchObject({ url: gate.url, certificate: cert });
    expect(await applyToRunningGate(gate.dataDir)).toBe(
      `Applied by the gate running at ${gate.url} (pid ${process.pid}).`
    );
  });
});
