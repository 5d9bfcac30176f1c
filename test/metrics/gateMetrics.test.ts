import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request } from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { identify } from '../../server/admin/adminGuards.js';
import type { Authenticator } from '../../server/auth/authenticator.js';
import type { Principal } from '../../server/pipeline/principal.js';
import { NO_LIMITS, type Role } from '../../server/keys/keySchema.js';
import { GateMetrics } from '../../server/metrics/gateMetrics.js';
import { authenticateWith } from '../../server/admin/adminGuards.js';
import { metricsRouter } from '../../server/admin/routes/metricsRouter.js';
import type { FinishedRequest } from '../../server/observe/finishedRequest.js';

// ---- A small parser for the Prometheus text exposition format (0.0.4) ----

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;
const METRIC_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Throws on any line that is not valid exposition text, so a test fails on malformed output. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line);
      if (type) {
        const [, name = '', kind = ''] = type;
        if (!METRIC_TYPES.has(kind)) throw new Error(`unknown metric type: ${line}`);
        if (types.has(name)) throw new Error(`TYPE given twice: ${line}`);
        types.set(name, kind);
      } else if (!/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) {
        throw new Error(`bad comment line: ${line}`);
      }
      continue;
    }
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`bad sample line: ${line}`);
    const [, name = '', labelText = '', valueText = ''] = match;
    const labels: Record<string, string> = {};
    LABEL_PAIR.lastIndex = 0;
    while (LABEL_PAIR.lastIndex < labelText.length) {
      const pair = LABEL_PAIR.exec(labelText);
      if (!pair) throw new Error(`bad labels: ${line}`);
      labels[pair[1] ?? ''] = (pair[2] ?? '').replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = parseValue(valueText);
    if (value === undefined) throw new Error(`bad value: ${line}`);
    const family = name.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(name) && !types.has(family)) throw new Error(`sample without TYPE: ${line}`);
    samples.push({ name, labels, value });
  }
  return { samples, types };
}

/** As Prometheus reads values (Go's ParseFloat): Inf and NaN in any case; prom-client writes NaN as `Nan`. */
function parseValue(text: string): number | undefined {
  if (/^nan$/i.test(text)) return Number.NaN;
  const infinity = /^([+-]?)inf(inity)?$/i.exec(text);
  if (infinity) return infinity[1] === '-' ? -Infinity : Infinity;
  const value = Number(text);
  return text.trim() === '' || Number.isNaN(value) ? undefined : value;
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find(
    (s) => s.name === name && Object.entries(labels).every(([label, value]) => s.labels[label] === value)
  )?.value;
}

function finished(overrides: Partial<FinishedRequest> = {}): FinishedRequest {
  return {
    kind: 'http',
    time: Date.now(),
    requestId: 'r1',
    keyId: 'k1',
    keyName: 'alice',
    role: 'creator',
    clientIp: '127.0.0.1',
    method: 'GET',
    path: '/queue',
    routeClass: 'read',
    status: 200,
    durationMs: 12,
    upstreamMs: 10,
    bytesIn: 0,
    bytesOut: 100,
    ...overrides,
  };
}

describe('GateMetrics', () => {
  it('exposes valid exposition text with every gate metric and prefixed process metrics', async () => {
    const metrics = new GateMetrics();
    metrics.observe(finished());
    metrics.setQueuedPrompts('alice', 1);
    metrics.countRefusal('rate_limit_minute');
    const text = await metrics.text();
    const { types } = parseExposition(text);

    expect(types.get('comfygate_requests_total')).toBe('counter');
    expect(types.get('comfygate_request_duration_seconds')).toBe('histogram');
    expect(types.get('comfygate_upstream_reachable')).toBe('gauge');
    expect(types.get('comfygate_open_websockets')).toBe('gauge');
    expect(types.get('comfygate_queued_prompts')).toBe('gauge');
    expect(types.get('comfygate_limit_refusals_total')).toBe('counter');
    expect(types.get('comfygate_lockouts_total')).toBe('counter');
    expect(types.has('comfygate_process_cpu_user_seconds_total')).toBe(true);
    expect(types.has('comfygate_nodejs_eventloop_lag_seconds')).toBe(true);
    // Its own registry: nothing unprefixed from prom-client's global default registry.
    expect([...types.keys()].every((name) => name.startsWith('comfygate_'))).toBe(true);
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('moves the request counter and the duration histogram on observe', async () => {
    const metrics = new GateMetrics({ defaultMetrics: false });
    const read2xx = { status_class: '2xx', route_class: 'read' };

    metrics.observe(finished({ durationMs: 3 }));
    let { samples } = parseExposition(await metrics.text());
    expect(valueOf(samples, 'comfygate_requests_total', read2xx)).toBe(1);
    expect(valueOf(samples, 'comfygate_request_duration_seconds_count')).toBe(1);

    metrics.observe(finished({ durationMs: 2000 }));
    metrics.observe(finished({ status: 429, routeClass: 'generate', durationMs: 0.4, refusal: 'rate_limit_minute' }));
    metrics.observe(finished({ status: 401, routeClass: null, durationMs: 1 }));
    metrics.observe(finished({ kind: 'ws', status: 101, durationMs: 3_600_000 }));
    ({ samples } = parseExposition(await metrics.text()));

    expect(valueOf(samples, 'comfygate_requests_total', read2xx)).toBe(2);
    expect(valueOf(samples, 'comfygate_requests_total', { status_class: '4xx', route_class: 'generate' })).toBe(1);
    expect(valueOf(samples, 'comfygate_requests_total', { status_class: '4xx', route_class: 'none' })).toBe(1);
    expect(valueOf(samples, 'comfygate_requests_total', { status_class: '1xx', route_class: 'read' })).toBe(1);
    // The hour-long WebSocket session is counted but kept out of the latency histogram.
    expect(valueOf(samples, 'comfygate_request_duration_seconds_count')).toBe(4);
    expect(valueOf(samples, 'comfygate_request_duration_seconds_sum')).toBeCloseTo(2.0044, 6);
    expect(valueOf(samples, 'comfygate_request_duration_seconds_bucket', { le: '0.001' })).toBe(2);
    expect(valueOf(samples, 'comfygate_request_duration_seconds_bucket', { le: '0.005' })).toBe(3);
    expect(valueOf(samples, 'comfygate_request_duration_seconds_bucket', { le: '60' })).toBe(4);
    expect(valueOf(samples, 'comfygate_request_duration_seconds_bucket', { le: '+Inf' })).toBe(4);
  });

  it('never throws from the observer, whatever the request looked like', async () => {
    const metrics = new GateMetrics({ defaultMetrics: false });
    expect(() => {
      metrics.observe(finished({ durationMs: Number.NaN }));
      metrics.observe(finished({ durationMs: -5 }));
      metrics.observe(finished({ status: 0 }));
      metrics.observe(finished({ status: 999 }));
    }).not.toThrow();
    const { samples } = parseExposition(await metrics.text());
    expect(valueOf(samples, 'comfygate_requests_total', { status_class: 'other', route_class: 'read' })).toBe(2);
    expect(valueOf(samples, 'comfygate_request_duration_seconds_count')).toBe(2);
  });

  it('sets gauges and counts refusals and lockouts', async () => {
    const metrics = new GateMetrics({ defaultMetrics: false });
    metrics.setUpstreamReachable(true);
    metrics.setOpenWebSockets(3);
    metrics.setQueuedPrompts('alice', 2);
    metrics.setQueuedPrompts('bob "the builder"', 1);
    metrics.countRefusal('rate_limit_minute');
    metrics.countRefusal('rate_limit_minute');
    metrics.countRefusal('queue_limit');
    metrics.countLockout();
    let { samples } = parseExposition(await metrics.text());
    expect(valueOf(samples, 'comfygate_upstream_reachable')).toBe(1);
    expect(valueOf(samples, 'comfygate_open_websockets')).toBe(3);
    expect(valueOf(samples, 'comfygate_queued_prompts', { key: 'alice' })).toBe(2);
    expect(valueOf(samples, 'comfygate_queued_prompts', { key: 'bob "the builder"' })).toBe(1);
    expect(valueOf(samples, 'comfygate_limit_refusals_total', { code: 'rate_limit_minute' })).toBe(2);
    expect(valueOf(samples, 'comfygate_limit_refusals_total', { code: 'queue_limit' })).toBe(1);
    expect(valueOf(samples, 'comfygate_lockouts_total')).toBe(1);

    metrics.setUpstreamReachable(false);
    metrics.forgetKey('alice');
    ({ samples } = parseExposition(await metrics.text()));
    expect(valueOf(samples, 'comfygate_upstream_reachable')).toBe(0);
    expect(valueOf(samples, 'comfygate_queued_prompts', { key: 'alice' })).toBeUndefined();
  });

  it('reads open WebSockets at scrape time when given a reader', async () => {
    let open = 5;
    const metrics = new GateMetrics({ defaultMetrics: false, openWebSockets: () => open });
    metrics.setOpenWebSockets(99);
    expect(valueOf(parseExposition(await metrics.text()).samples, 'comfygate_open_websockets')).toBe(5);
    open = 7;
    expect(valueOf(parseExposition(await metrics.text()).samples, 'comfygate_open_websockets')).toBe(7);
  });

  it('reads queued prompts at scrape time, by key name, and drops a name no longer counted to 0', async () => {
    const counts = new Map([
      ['key-a', 2],
      ['anon:10.0.0.7', 1],
    ]);
    const names = new Map([['key-a', 'alice']]);
    const metrics = new GateMetrics({
      defaultMetrics: false,
      queuedPrompts: { counts: () => counts, nameOf: (subject) => names.get(subject) ?? subject },
    });
    let { samples } = parseExposition(await metrics.text());
    expect(valueOf(samples, 'comfygate_queued_prompts', { key: 'alice' })).toBe(2);
    expect(valueOf(samples, 'comfygate_queued_prompts', { key: 'anon:10.0.0.7' })).toBe(1);

    counts.delete('key-a');
    ({ samples } = parseExposition(await metrics.text()));
    expect(valueOf(samples, 'comfygate_queued_prompts', { key: 'alice' })).toBe(0);
    expect(valueOf(samples, 'comfygate_queued_prompts', { key: 'anon:10.0.0.7' })).toBe(1);
  });

  it('keeps two instances apart', async () => {
    const a = new GateMetrics({ defaultMetrics: false });
    const b = new GateMetrics({ defaultMetrics: false });
    a.countLockout();
    expect(valueOf(parseExposition(await a.text()).samples, 'comfygate_lockouts_total')).toBe(1);
    expect(valueOf(parseExposition(await b.text()).samples, 'comfygate_lockouts_total')).toBe(0);
  });
});

// ---- GET /gate/metrics ----

const METRICS_TOKEN = 'scrape-token-0123456789abcdef';
const KEYS: Record<string, Role> = { 'admin-key': 'admin', 'viewer-key': 'viewer' };

function principal(role: Role): Principal {
  return {
    keyId: `id-${role}`,
    name: role,
    role,
    scopes: null,
    limits: NO_LIMITS,
    via: 'header',
  };
}

/** Knows two keys; anything else is wrong. Reads X-API-Key and bearer like the gate does. */
function fakeAuthenticate(req: Request): Principal | undefined {
  const value = req.headers['x-api-key'] ?? /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  const role = typeof value === 'string' ? KEYS[value] : undefined;
  return role ? principal(role) : undefined;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

async function listen(app: express.Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((done) => server.once('listening', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/gate/metrics`;
}

async function metricsApp(
  token: string | null,
  authenticate: (req: Request) => Principal | undefined = fakeAuthenticate
): Promise<{ url: string; metrics: GateMetrics }> {
  const metrics = new GateMetrics({ defaultMetrics: false });
  const app = express();
  app.use(metricsRouter({ metrics, metricsToken: () => token, authenticate }));
  return { url: await listen(app), metrics };
}

describe('GET /gate/metrics', () => {
  it('answers an admin key with the exposition text', async () => {
    const { url, metrics } = await metricsApp(METRICS_TOKEN);
    metrics.countLockout();
    const res = await fetch(url, { headers: { 'x-api-key': 'admin-key' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(valueOf(parseExposition(await res.text()).samples, 'comfygate_lockouts_total')).toBe(1);
  });

  it('answers the metrics token without asking the authenticator', async () => {
    const authenticate = vi.fn(fakeAuthenticate);
    const { url } = await metricsApp(METRICS_TOKEN, authenticate);
    const res = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    parseExposition(await res.text());
    expect(authenticate).not.toHaveBeenCalled();
  });

  it('refuses a wrong token, no credential, and a token when none is configured with 401 JSON', async () => {
    const { url } = await metricsApp(METRICS_TOKEN);
    const refused: Array<Record<string, string>> = [
      { authorization: `Bearer ${METRICS_TOKEN}x` },
      { authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}` },
      { authorization: 'Bearer ' },
      {},
    ];
    for (const headers of refused) {
      const res = await fetch(url, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('unauthorized');
      expect(body.error.message).toMatch(/metrics token/);
    }

    for (const token of [null, '']) {
      const { url: noToken } = await metricsApp(token);
      expect((await fetch(noToken, { headers: { authorization: 'Bearer ' } })).status).toBe(401);
      expect((await fetch(noToken, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(401);
    }
  });

  it('refuses a valid key without the admin role with 403', async () => {
    const { url } = await metricsApp(METRICS_TOKEN);
    const res = await fetch(url, { headers: { 'x-api-key': 'viewer-key' } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('forbidden');
  });

  it('uses the principal identify already found when mounted after it', async () => {
    const stub = { authenticate: () => ({ ok: true, principal: principal('admin') }) };
    const metrics = new GateMetrics({ defaultMetrics: false });
    const authenticate = vi.fn(() => undefined);
    const app = express();
    app.use(identify(stub as unknown as Authenticator));
    app.use(metricsRouter({ metrics, metricsToken: () => null, authenticate }));
    const res = await fetch(await listen(app), { headers: { 'x-api-key': 'anything' } });
    expect(res.status).toBe(200);
    expect(authenticate).not.toHaveBeenCalled();
  });

  it('authenticateWith reads the credential like the gate and passes the client address', async () => {
    const calls: Array<{ value: string; ip: string }> = [];
    const authenticator = {
      authenticate(credential: { value: string }, clientIp: string) {
        calls.push({ value: credential.value, ip: clientIp });
        return credential.value === 'admin-key'
          ? { ok: true as const, principal: principal('admin') }
          : { ok: false as const, message: 'The API key is not valid' };
      },
    };
    const { url } = await metricsApp(METRICS_TOKEN, authenticateWith(authenticator));
    expect((await fetch(url, { headers: { authorization: 'Bearer admin-key' } })).status).toBe(200);
    expect((await fetch(url, { headers: { 'x-api-key': 'nope' } })).status).toBe(401);
    expect((await fetch(url)).status).toBe(401);
    expect(calls).toEqual([
      { value: 'admin-key', ip: '127.0.0.1' },
      { value: 'nope', ip: '127.0.0.1' },
    ]);
  });
});
