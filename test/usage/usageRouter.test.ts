import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identify } from '../../server/admin/adminGuards.js';
import { Authenticator } from '../../server/auth/authenticator.js';
import { SessionTokens } from '../../server/auth/sessionTokens.js';
import { GateError, errorBody } from '../../server/errors.js';
import { KeyStore } from '../../server/keys/keyStore.js';
import { BruteForceLockout } from '../../server/limits/lockout.js';
import type { FinishedRequest } from '../../server/observe/finishedRequest.js';
import { UsageAggregator, localDate, shiftDate } from '../../server/usage/usageAggregator.js';
import type { AllUsageReport, UsageReport } from '../../server/usage/usageSchema.js';
import { usageRouter } from '../../server/admin/routes/usageRouter.js';
import { call } from '../helpers/http.js';
import { memorySignOuts } from '../helpers/signOuts.js';

let root: string;
let keys: KeyStore;
let usage: UsageAggregator;
let server: Server;
let base: string;
let adminKey: string;
let creatorKey: string;
let creatorId: string;
let adminId: string;
let goneId: string;
const today = localDate(Date.now());

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'comfygate-usage-api-'));
  const dataDir = join(root, 'data');
  keys = await KeyStore.open(dataDir);
  const admin = await keys.create({ name: 'Ada', role: 'admin' });
  const creator = await keys.create({ name: 'Cleo', role: 'creator' });
  const gone = await keys.create({ name: 'Gone', role: 'viewer' });
  adminKey = admin.key;
  adminId = admin.record.id;
  creatorKey = creator.key;
  creatorId = creator.record.id;
  goneId = gone.record.id;
  await keys.delete(goneId);

  usage = await UsageAggregator.open(dataDir, { flushIntervalMs: 60_000 });
  const now = Date.now();
  const seen = (keyId: string | null, time: number, extra: Partial<FinishedRequest> = {}): void =>
    usage.observe({
      kind: 'http',
      time,
      requestId: 'r',
      keyId,
      keyName: null,
      role: null,
      clientIp: '127.0.0.1',
      method: 'GET',
      path: '/queue',
      routeClass: 'read',
      status: 200,
      durationMs: 5,
      upstreamMs: 2,
      bytesIn: 10,
      bytesOut: 20,
      ...extra,
    });
  seen(creatorId, now);
  seen(creatorId, now, { method: 'POST', path: '/prompt', routeClass: 'generate', promptId: 'p1' });
  seen(creatorId, now - 40 * 24 * 60 * 60 * 1000);
  seen(adminId, now);
  seen(goneId, now);
  seen(null, now, { status: 401, routeClass: null });
  // Part of it on disk, part still pending: the API shows both.
  await usage.flush();
  seen(creatorId, now, { status: 500 });

  const app = express();
  app.use(
    identify(
      new Authenticator(keys, new SessionTokens(randomBytes(32), memorySignOuts()), undefined, new BruteForceLockout())
    )
  );
  app.use('/gate/api/usage', usageRouter(usage, keys));
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const gateError = error instanceof GateError ? error : new GateError('internal', String(error));
    res.status(gateError.status).type('application/json').send(errorBody(gateError.code, gateError.message));
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gate/api/usage`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await Promise.all([usage.close(), keys.close()]);
  await rm(root, { recursive: true, force: true });
});

function get<T>(path: string, key?: string) {
  return call<T>(`${base}${path}`, { headers: key === undefined ? {} : { 'x-api-key': key } });
}

describe('GET /gate/api/usage', () => {
  it('refuses callers without a valid key', async () => {
    expect(await get('/')).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect((await get('/', 'cgk_wrong')).status).toBe(401);
    expect((await get('/all')).status).toBe(401);
  });

  it("shows the caller's own usage of the last 30 days, pending requests included", async () => {
    const own = await get<UsageReport>('/', creatorKey);
    expect(own.status).toBe(200);
    expect(own.headers['cache-control']).toBe('no-store');
    expect(own.body.from).toBe(shiftDate(today, -29));
    expect(own.body.to).toBe(today);
    expect(own.body.days.map((row) => row.keyId)).toEqual([creatorId]);
    expect(own.body.totals).toMatchObject({ requests: 3, prompts: 1, errors: 1, bytesIn: 30 });
    expect(own.body.totals.byRouteClass).toEqual({ read: 2, generate: 1, manage: 0, install: 0 });
  });

  it('takes a date range', async () => {
    const old = shiftDate(today, -40);
    const range = await get<UsageReport>(`/?from=${old}&to=${old}`, creatorKey);
    expect(range.body).toMatchObject({ from: old, to: old, totals: { requests: 1 } });
    expect(range.body.days).toEqual([expect.objectContaining({ date: old, keyId: creatorId })]);
  });

  it('refuses bad ranges and parameters with 400', async () => {
    for (const query of [
      '?from=2025-02-30',
      '?to=yesterday',
      `?from=${today}&to=2000-01-01`,
      '?key=x',
      '?from=a&from=b',
    ]) {
      const answer = await get(`/${query}`, creatorKey);
      expect(answer, query).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    }
  });
});

describe('GET /gate/api/usage/all', () => {
  it('is for admins only', async () => {
    expect(await get('/all', creatorKey)).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
  });

  it("shows every key's usage with its current name, anonymous and deleted keys included", async () => {
    const all = await get<AllUsageReport>('/all', adminKey);
    expect(all.status).toBe(200);
    const names = Object.fromEntries(all.body.days.map((row) => [row.keyId, row.keyName]));
    expect(names).toEqual({ [creatorId]: 'Cleo', [adminId]: 'Ada', [goneId]: null, anonymous: null });
    expect(all.body.totals.requests).toBe(6);
    expect(all.body.days.find((row) => row.keyId === 'anonymous')).toMatchObject({ requests: 1, errors: 1 });
  });

  it('filters by key and date range', async () => {
    const one = await get<AllUsageReport>(`/all?key=${creatorId}&from=${shiftDate(today, -60)}`, adminKey);
    expect(one.body.days.map((row) => row.date)).toEqual([shiftDate(today, -40), today]);
    expect(one.body.totals.requests).toBe(4);
    const anonymous = await get<AllUsageReport>('/all?key=anonymous', adminKey);
    expect(anonymous.body.totals.requests).toBe(1);
    expect((await get('/all?key=__proto__', adminKey)).status).toBe(400);
    expect((await get('/all?user=x', adminKey)).status).toBe(400);
  });
});
