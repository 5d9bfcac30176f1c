import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, get, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { identify } from '../../server/admin/adminGuards.js';
import { Authenticator } from '../../server/auth/authenticator.js';
import { loadOrCreateSecret } from '../../server/auth/secretFile.js';
import { SessionTokens } from '../../server/auth/sessionTokens.js';
import { GateError, errorBody } from '../../server/errors.js';
import { KeyStore } from '../../server/keys/keyStore.js';
import { BruteForceLockout } from '../../server/limits/lockout.js';
import { silentLogger } from '../../server/appLog/logger.js';
import { AuditLog, type AuditRecord } from '../../server/logs/auditLog.js';
import type { Page } from '../../server/logs/logQuery.js';
import { logsRouter } from '../../server/admin/routes/logsRouter.js';
import { LogStream } from '../../server/logs/logStream.js';
import { RequestLog } from '../../server/logs/requestLog.js';
import { toLogLine, type RequestLogLine } from '../../server/logs/requestLogLine.js';
import type { FinishedRequest } from '../../server/observe/finishedRequest.js';
import { call } from '../helpers/http.js';
import { memorySignOuts } from '../helpers/signOuts.js';

const T0 = Date.parse('2025-06-01T12:00:00.000Z');

function finished(i: number, overrides: Partial<FinishedRequest> = {}): FinishedRequest {
  return {
    kind: 'http',
    time: T0 + i * 1000,
    requestId: `req-${i}`,
    keyId: i % 2 === 0 ? 'key_even' : 'key_odd',
    keyName: i % 2 === 0 ? 'Even' : 'Odd',
    role: 'creator',
    clientIp: '192.168.1.20',
    method: 'GET',
    path: `/view/image_${i}.png`,
    routeClass: 'read',
    status: i % 5 === 0 ? 404 : 200,
    durationMs: 3,
    upstreamMs: 2,
    bytesIn: 0,
    bytesOut: 100,
    ...overrides,
  };
}

let dataDir: string;
let keys: KeyStore;
let requestLog: RequestLog;
let audit: AuditLog;
let stream: LogStream;
let server: Server;
let base: string;
let port: number;
let adminKey: string;
let viewerKey: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-logsapi-'));
  keys = await KeyStore.open(dataDir);
  const tokens = new SessionTokens(await loadOrCreateSecret(dataDir, silentLogger()), memorySignOuts());
  const authenticator = new Authenticator(keys, tokens, undefined, new BruteForceLockout());
  adminKey = (await keys.create({ name: 'Admin', role: 'admin' })).key;
  viewerKey = (await keys.create({ name: 'Viewer', role: 'viewer' })).key;
  requestLog = await RequestLog.open({ dataDir, ringSize: 20 });
  audit = await AuditLog.open({ dataDir });
  stream = new LogStream({
    heartbeatMs: 100,
    retryMs: 2000,
    maxBufferedBytes: 256 * 1024,
    stallMs: 1000,
    recent: () => requestLog.recent(),
  });

  // The same wiring as the admin app: identify() finds the caller, the router checks the role.
  const app = express();
  app.set('query parser', 'simple');
  app.use(
    '/gate/api',
    identify(authenticator),
    logsRouter({ requestLog, stream, audit, retention: () => ({ days: 7, maxMegabytes: 500 }) })
  );
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const gateError = error instanceof GateError ? error : new GateError('internal', String(error));
    res
      .status(gateError.status)
      .set({ ...gateError.headers, 'cache-control': 'no-store' })
      .type('application/json')
      .send(errorBody(gateError.code, gateError.message));
  });
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}/gate/api`;
});

afterAll(async () => {
  stream.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await requestLog.close();
  await audit.close();
  await keys.close();
  await rm(dataDir, { recursive: true, force: true });
});

interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string | undefined;
}

const openClients: SseClient[] = [];

/** A plain SSE reader over node:http: events parsed as they arrive, comments and `retry:` kept. */
class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retry: number | undefined;
  status = 0;
  headers: IncomingHttpHeaders = {};
  ended = false;
  #pending = '';
  #abort = new AbortController();
  #waiters = new Set<() => void>();

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    openClients.push(client);
    await new Promise<void>((resolve, reject) => {
      const req = get(url, { headers, signal: client.#abort.signal }, (res) => {
        client.status = res.statusCode ?? 0;
        client.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => client.#feed(chunk));
        res.on('close', () => {
          client.ended = true;
          client.#notify();
        });
        res.on('error', () => undefined);
        resolve();
      });
      req.on('error', (error) => (error.name === 'AbortError' ? undefined : reject(error)));
    });
    return client;
  }

  async waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the event stream');
      await new Promise<void>((resolve) => {
        this.#waiters.add(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  lines(): RequestLogLine[] {
    return this.events.filter((e) => e.event === 'request').map((e) => JSON.parse(e.data ?? 'null') as RequestLogLine);
  }

  close(): void {
    this.#abort.abort();
  }

  #feed(chunk: string): void {
    this.#pending += chunk;
    let end: number;
    while ((end = this.#pending.indexOf('\n\n')) !== -1) {
      const block = this.#pending.slice(0, end);
      this.#pending = this.#pending.slice(end + 2);
      const event: SseEvent = { id: undefined, event: undefined, data: undefined };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else if (line.startsWith('retry: ')) this.retry = Number(line.slice(7));
        else if (line.startsWith('id: ')) event.id = line.slice(4);
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('data: '))
          event.data = (event.data === undefined ? '' : event.data + '\n') + line.slice(6);
      }
      if (event.event !== undefined || event.data !== undefined) this.events.push(event);
    }
    this.#notify();
  }

  #notify(): void {
    for (const resolve of this.#waiters) resolve();
    this.#waiters.clear();
  }
}

function asAdmin(path: string) {
  return call<Record<string, unknown>>(`${base}${path}`, { headers: { 'x-api-key': adminKey } });
}

describe('admin only', () => {
  it.each(['/logs', '/logs/stream', '/audit'])('%s needs an admin key: 401 without, 403 for a viewer', async (path) => {
    const anonymous = await call(`${base}${path}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: { code: 'unauthorized' } });
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);

    const viewer = await call(`${base}${path}`, { headers: { 'x-api-key': viewerKey } });
    expect(viewer.status).toBe(403);
    expect(viewer.headers['content-type']).toMatch(/application\/json/);
    expect(viewer.body).toMatchObject({ error: { code: 'forbidden' } });

    const wrong = await call(`${base}${path}`, { headers: { authorization: 'Bearer cgk_wrong' } });
    expect(wrong.status).toBe(401);
    expect(stream.clients).toBe(0);
  });
});

describe('GET /gate/api/logs', () => {
  beforeAll(async () => {
    for (let i = 0; i < 60; i++) requestLog.observe(finished(i));
    await requestLog.flush();
  });

  it('pages newest first with filters; next is an opaque cursor', async () => {
    const first = await asAdmin('/logs?key=key_even&status=4xx&limit=2');
    expect(first.status).toBe(200);
    expect(first.headers['cache-control']).toBe('no-store');
    const page = first.body as unknown as Page<RequestLogLine>;
    expect(page.items.map((item) => item.requestId)).toEqual(['req-50', 'req-40']);
    expect(typeof page.next).toBe('string');

    const second = (await asAdmin(`/logs?key=key_even&status=4xx&limit=2&before=${page.next}`))
      .body as unknown as Page<RequestLogLine>;
    expect(second.items.map((item) => item.requestId)).toEqual(['req-30', 'req-20']);
    const rest = (await asAdmin(`/logs?key=key_even&status=4xx&limit=2&before=${second.next}`))
      .body as unknown as Page<RequestLogLine>;
    expect(rest.items.map((item) => item.requestId)).toEqual(['req-10', 'req-0']);
    const none = (await asAdmin(`/logs?key=key_even&status=4xx&limit=2&before=${rest.next}`)).body;
    expect(none).toEqual({
      items: [],
      next: null,
      coverage: { oldestTime: expect.any(String) as string, retention: { days: 7, maxMegabytes: 500 } },
    });
  });

  it('filters by path prefix and ISO times, and defaults to 100 items', async () => {
    const byPath = (await asAdmin('/logs?path=/view/image_5')).body as unknown as Page<RequestLogLine>;
    expect(byPath.items.map((item) => item.requestId)).toEqual(
      ['59', '58', '57', '56', '55', '54', '53', '52', '51', '50', '5'].map((n) => `req-${n}`)
    );
    expect(byPath.next).toBeNull();
    const since = new Date(T0 + 55_000).toISOString();
    const until = new Date(T0 + 57_000).toISOString();
    const byTime = (await asAdmin(`/logs?since=${since}&until=${until}`)).body as unknown as Page<RequestLogLine>;
    expect(byTime.items.map((item) => item.requestId)).toEqual(['req-57', 'req-56', 'req-55']);
    const all = (await asAdmin('/logs')).body as unknown as Page<RequestLogLine>;
    expect(all.items).toHaveLength(60);
  });

  it('takes the key in ?token= too (for clients that cannot send headers)', async () => {
    const res = await call(`${base}/logs?limit=1&token=${encodeURIComponent(adminKey)}`);
    expect(res.status).toBe(200);
  });

  it.each([
    ['status=abc', /status/],
    ['status=600', /status/],
    ['limit=0', /limit/],
    ['limit=5000', /limit/],
    ['since=yesterday', /since/],
    ['before=bogus', /cursor/],
    ['color=red', /unknown field/],
  ])('refuses ?%s with a 400', async (query, message) => {
    const res = await asAdmin(`/logs?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: { code: 'bad_request', message: expect.stringMatching(message) as unknown },
    });
  });
});

describe('GET /gate/api/audit', () => {
  it('lists audit records newest first, by action, with paging', async () => {
    audit.record({ action: 'key.created', actorKeyId: 'key_admin', clientIp: '127.0.0.1', target: 'key_a' });
    audit.record({ action: 'mode.changed', actorKeyId: 'key_admin', clientIp: '127.0.0.1', details: { to: 'off' } });
    audit.record({ action: 'key.deleted', actorKeyId: 'key_admin', clientIp: '127.0.0.1', target: 'key_a' });

    const all = (await asAdmin('/audit')).body as unknown as Page<AuditRecord>;
    expect(all.items.map((item) => item.action)).toEqual(['key.deleted', 'mode.changed', 'key.created']);
    const created = (await asAdmin('/audit?action=key.created')).body as unknown as Page<AuditRecord>;
    expect(created.items).toHaveLength(1);
    expect(created.items[0]).toMatchObject({ target: 'key_a', actorKeyId: 'key_admin' });

    const first = (await asAdmin('/audit?limit=2')).body as unknown as Page<AuditRecord>;
    expect(first.items).toHaveLength(2);
    const next = (await asAdmin(`/audit?limit=2&before=${first.next}`)).body as unknown as Page<AuditRecord>;
    expect(next.items.map((item) => item.action)).toEqual(['key.created']);

    expect((await asAdmin('/audit?action=key.exploded')).status).toBe(400);
    expect((await asAdmin(`/audit?since=${new Date(Date.now() + 60_000).toISOString()}`)).body).toEqual({
      items: [],
      next: null,
    });
  });
});

describe('GET /gate/api/logs/stream', () => {
  // A failed test must not leave readers attached to the next one.
  afterEach(async () => {
    for (const client of openClients.splice(0)) client.close();
    for (let i = 0; i < 100 && stream.clients > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  });

  it('sends each finished request as an event, live, with the filters of the query', async () => {
    const everything = await SseClient.open(`${base}/logs/stream`, { 'x-api-key': adminKey });
    const errors = await SseClient.open(`${base}/logs/stream?status=4xx`, { 'x-api-key': adminKey });
    const odd = await SseClient.open(`${base}/logs/stream?key=key_odd`, { 'x-api-key': adminKey });
    try {
      expect(everything.status).toBe(200);
      expect(everything.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(everything.headers['cache-control']).toBe('no-store');
      await everything.waitFor(() => everything.retry !== undefined);
      expect(everything.retry).toBe(2000);
      expect(stream.clients).toBe(3);

      const sent = [finished(100), finished(101), finished(105), finished(106)];
      for (const one of sent) stream.observe(one);
      await everything.waitFor(() => everything.lines().length === 4);
      expect(everything.lines()).toEqual(sent.map(toLogLine));
      expect(everything.events.every((event) => event.event === 'request')).toBe(true);
      await errors.waitFor(() => errors.lines().length === 2);
      expect(errors.lines().map((line) => line.requestId)).toEqual(['req-100', 'req-105']);
      await odd.waitFor(() => odd.lines().length === 2);
      expect(odd.lines().map((line) => line.requestId)).toEqual(['req-101', 'req-105']);

      // Idle streams get comment heartbeats (every 100 ms here, 15 s by default).
      await everything.waitFor(() => everything.comments.includes('ping'), 2000);
    } finally {
      everything.close();
      errors.close();
      odd.close();
    }
    await everything.waitFor(() => stream.clients === 0);
  });

  it('replays what a reconnecting reader missed, from Last-Event-ID', async () => {
    const both = (one: FinishedRequest) => {
      requestLog.observe(one);
      stream.observe(one);
    };
    const first = await SseClient.open(`${base}/logs/stream?status=2xx`, { 'x-api-key': adminKey });
    await first.waitFor(() => stream.clients === 1);
    for (const i of [201, 202, 203]) both(finished(i));
    await first.waitFor(() => first.events.length === 3);
    const lastId = first.events.at(-1)?.id;
    expect(lastId).toBe('req-203');
    first.close();
    await first.waitFor(() => stream.clients === 0);

    // Missed while disconnected; 205 is a 404, outside this reader's filter.
    for (const i of [204, 205, 206]) both(finished(i));
    const again = await SseClient.open(`${base}/logs/stream?status=2xx`, {
      'x-api-key': adminKey,
      'last-event-id': lastId ?? '',
    });
    try {
      both(finished(207));
      await again.waitFor(() => again.events.length === 3);
      expect(again.lines().map((line) => line.requestId)).toEqual(['req-204', 'req-206', 'req-207']);
      expect(again.events.map((event) => event.id)).toEqual(['req-204', 'req-206', 'req-207']);
    } finally {
      again.close();
    }
    await again.waitFor(() => stream.clients === 0);
  });

  it('redacts credentials in live events as in the files', async () => {
    const reader = await SseClient.open(`${base}/logs/stream`, { 'x-api-key': adminKey });
    try {
      await reader.waitFor(() => stream.clients === 1);
      stream.observe(finished(7, { path: `/view/${adminKey}`, keyName: adminKey }));
      await reader.waitFor(() => reader.lines().length === 1);
      expect(reader.events[0]?.data).not.toContain('cgk_');
    } finally {
      reader.close();
    }
    await reader.waitFor(() => stream.clients === 0);
  });

  it('drops a reader that stopped reading while a normal reader keeps up', async () => {
    const normal = await SseClient.open(`${base}/logs/stream`, { 'x-api-key': adminKey });
    const stalled = connect(port, '127.0.0.1');
    await once(stalled, 'connect');
    stalled.write(
      `GET /gate/api/logs/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-API-Key: ${adminKey}\r\nAccept: text/event-stream\r\n\r\n`
    );
    // Never read: the kernel buffers fill, then the server's response buffer grows.
    stalled.pause();
    const stalledClosed = once(stalled, 'close');
    stalled.on('error', () => undefined);
    try {
      await normal.waitFor(() => stream.clients === 2);
      const droppedBefore = stream.droppedClients;
      const path = `/view/${'x'.repeat(4000)}.png`;
      let produced = 0;
      const started = Date.now();
      while (stream.droppedClients === droppedBefore) {
        if (Date.now() - started > 20_000) throw new Error('the stalled reader was never dropped');
        for (let k = 0; k < 10; k++) stream.observe(finished(produced++, { path }));
        // Paced like traffic (about 40 MB/s here), so that a busy test machine does not make the normal reader slow.
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      // The stalled one went; the normal one stayed.
      expect({ clients: stream.clients, normalEnded: normal.ended }).toEqual({ clients: 1, normalEnded: false });

      for (let k = 0; k < 10; k++) stream.observe(finished(produced++, { path }));
      await normal.waitFor(() => normal.lines().length === produced, 10_000);
      const ids = normal.lines().map((line) => line.requestId);
      expect(ids).toEqual(Array.from({ length: produced }, (_, i) => `req-${i}`));
      expect(normal.ended).toBe(false);

      stalled.resume();
      await stalledClosed;
    } finally {
      normal.close();
      stalled.destroy();
    }
  });
});

describe('LogStream.close', () => {
  it('ends every open stream and answers later readers with 503', async () => {
    const own = new LogStream();
    const plain = createServer((_req, res) => own.attach(res));
    plain.listen(0, '127.0.0.1');
    await once(plain, 'listening');
    const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/`;
    try {
      const a = await SseClient.open(url);
      const b = await SseClient.open(url);
      await a.waitFor(() => own.clients === 2);
      own.close();
      await a.waitFor(() => a.ended && b.ended);
      expect(own.clients).toBe(0);
      const late = await call(url);
      expect(late.status).toBe(503);
      expect(late.body).toMatchObject({ error: { code: 'shutting_down' } });
    } finally {
      plain.closeAllConnections();
      await new Promise((resolve) => plain.close(resolve));
    }
  });
});
