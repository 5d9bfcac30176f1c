import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { rawExchange } from '../helpers/raw.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { callerRequests } from '../helpers/gateAndComfy.js';
import { eventually, startTestGate, type TestGate } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('upstream unreachable', () => {
  let gate: TestGate;
  let deadUrl: string;

  beforeAll(async () => {
    deadUrl = `http://127.0.0.1:${await unusedPort()}`;
    gate = await startTestGate({ upstream: deadUrl });
  });
  afterAll(() => gate.stop());

  it("answers 502 JSON naming the upstream URL, in ComfyUI's error shape too", async () => {
    const res = await request(`${gate.url}/api/prompt`);
    expect(res.statusCode).toBe(502);
    expect(await res.body.json()).toEqual({
      error: {
        code: 'upstream_unreachable',
        message: `ComfyUI is not reachable at ${deadUrl}`,
        requestId: expect.stringMatching(/^[0-9a-z]+-[0-9a-z]+$/) as unknown,
        type: 'upstream_unreachable',
        details: expect.stringContaining('Try again in a minute') as unknown,
        extra_info: {},
      },
      node_errors: {},
    });
  });

  it('refuses WebSocket upgrades with 502 instead of hanging', async () => {
    await expect(RecordingSocket.open(`${gate.url.replace('http', 'ws')}/ws`)).rejects.toThrow(
      'handshake answered 502'
    );
    expect(gate.state.openSockets).toBe(0);
  });

  it('reports the upstream as unreachable in the health check', async () => {
    const res = await request(`${gate.url}/gate/healthz`);
    expect(await res.body.json()).toEqual({ status: 'ok', upstream: { url: deadUrl, reachable: false } });
  });
});

describe('slow upstream', () => {
  let fake: FakeComfy;
  let gate: TestGate;

  beforeAll(async () => {
    fake = await startFakeComfy();
    gate = await startTestGate({ upstream: fake.url, upstreamTimeoutMs: 300 });
  });
  afterAll(async () => {
    await gate.stop();
    await fake.close();
  });

  it('answers 504 JSON when ComfyUI does not answer within the configured timeout', async () => {
    fake.setResponseDelay(2_000);
    try {
      const res = await request(`${gate.url}/api/object_info`);
      expect(res.statusCode).toBe(504);
      expect(await res.body.json()).toMatchObject({ error: { code: 'upstream_timeout' } });
    } finally {
      fake.setResponseDelay(0);
    }
    const after = await request(`${gate.url}/api/prompt`);
    expect(after.statusCode).toBe(200);
    await after.body.dump();
  });
});

describe('client aborts', () => {
  // A bare upstream that never answers, so the test can watch the gate give up on it.
  const arrived: IncomingMessage[] = [];
  const closedEarly: string[] = [];
  const upstream = createServer((req) => {
    arrived.push(req);
    req.resume();
    req.socket.once('close', () => closedEarly.push(req.url ?? ''));
  });
  let gate: TestGate;

  beforeAll(async () => {
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    gate = await startTestGate({ upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` });
  });
  afterAll(async () => {
    await gate.stop();
    upstream.closeAllConnections();
    upstream.close();
  });

  it('aborts the upstream request when the client goes away', async () => {
    const controller = new AbortController();
    const pending = request(`${gate.url}/api/history`, { signal: controller.signal });
    await eventually(() => arrived.some((r) => r.url === '/api/history'), 'request reached upstream');
    controller.abort();
    await expect(pending).rejects.toThrow();
    await eventually(() => closedEarly.includes('/api/history'), 'upstream connection closed by the gate');
  });

  it('aborts an upload mid-stream without crashing or leaking', async () => {
    const port = new URL(gate.url).port;
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST /api/upload/image HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000000\r\n\r\n');
    socket.write(Buffer.alloc(100_000));
    await eventually(() => arrived.some((r) => r.url === '/api/upload/image'), 'upload reached upstream');
    socket.destroy();
    await eventually(() => closedEarly.includes('/api/upload/image'), 'upstream upload aborted');
    const health = await request(`${gate.url}/gate/healthz`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();
  });
});

describe('malformed requests', () => {
  let fake: FakeComfy;
  let gate: TestGate;
  let port: number;

  beforeAll(async () => {
    fake = await startFakeComfy();
    gate = await startTestGate({ upstream: fake.url });
    port = Number(new URL(gate.url).port);
  });
  afterAll(async () => {
    await gate.stop();
    await fake.close();
  });

  it.each([
    ['a broken header line', 'GET / HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n'],
    ['a bogus request line', 'HELLO\r\n\r\n'],
    [
      'conflicting body lengths',
      'POST /prompt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
  ])('answers %s with 400 JSON and stays up', async (_label, bytes) => {
    const forwarded = () => callerRequests(fake).filter((r) => r.rawUrl !== '/system_stats').length;
    const before = forwarded();
    const answer = await rawExchange(port, bytes);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"bad_request"');
    expect(forwarded()).toBe(before);
  });

  it('answers an absolute-form (forward proxy) request with 400', async () => {
    const answer = await rawExchange(
      port,
      'GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n'
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('still serves normal requests afterwards', async () => {
    const res = await request(`${gate.url}/api/prompt`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });
});
