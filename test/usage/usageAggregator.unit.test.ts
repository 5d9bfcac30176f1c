import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FinishedRequest } from '../../server/observe/finishedRequest.js';
import {
  UsageAggregator,
  localDate,
  shiftDate,
  type UsageAggregatorOptions,
} from '../../server/usage/usageAggregator.js';
import { emptyDayUsage, usageFileSchema, type DayUsage, type UsageFile } from '../../server/usage/usageSchema.js';

const posix = process.platform !== 'win32';
/** Local noon of a fixed day: far from midnight, so "today" does not change during a test. */
const NOON = new Date(2025, 5, 15, 12, 0, 0).getTime();
const TODAY = localDate(NOON);
const DAY_MS = 24 * 60 * 60 * 1000;

let dataDir: string;
let open: UsageAggregator[];

beforeEach(async () => {
  dataDir = join(await mkdtemp(join(tmpdir(), 'comfygate-usage-')), 'data');
  open = [];
});

afterEach(async () => {
  await Promise.all(open.map((usage) => usage.close()));
  await rm(join(dataDir, '..'), { recursive: true, force: true });
});

async function openUsage(options: UsageAggregatorOptions = {}): Promise<UsageAggregator> {
  const usage = await UsageAggregator.open(dataDir, { flushIntervalMs: 60_000, now: () => NOON, ...options });
  open.push(usage);
  return usage;
}

function request(overrides: Partial<FinishedRequest> = {}): FinishedRequest {
  return {
    kind: 'http',
    time: NOON,
    requestId: 'r1',
    keyId: 'key_alice',
    keyName: 'Alice',
    role: 'creator',
    clientIp: '127.0.0.1',
    method: 'GET',
    path: '/queue',
    routeClass: 'read',
    status: 200,
    durationMs: 10,
    upstreamMs: 5,
    bytesIn: 100,
    bytesOut: 1000,
    ...overrides,
  };
}

async function usageFile(): Promise<UsageFile> {
  return usageFileSchema.parse(JSON.parse(await readFile(join(dataDir, 'usage.json'), 'utf8')));
}

function usageWith(fields: Partial<DayUsage>): DayUsage {
  return { ...emptyDayUsage(), ...fields };
}

async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('UsageAggregator counting', () => {
  it('counts requests per key, per status class and route class, with prompts, bytes and durations', async () => {
    const usage = await openUsage();
    usage.observe(request({ status: 200, durationMs: 10 }));
    usage.observe(request({ status: 304, durationMs: 2.5, bytesIn: 0, bytesOut: 0 }));
    usage.observe(
      request({ method: 'POST', path: '/prompt', routeClass: 'generate', status: 200, promptId: 'p1', durationMs: 80 })
    );
    usage.observe(request({ status: 429, routeClass: 'generate', refusal: 'rate_limit_minute', durationMs: 1 }));
    usage.observe(request({ status: 502, durationMs: 40 }));
    usage.observe(request({ kind: 'ws', path: '/ws', status: 101, durationMs: 60_000, bytesIn: 10, bytesOut: 5000 }));
    usage.observe(request({ keyId: 'key_bob', keyName: 'Bob', status: 403, routeClass: 'install', durationMs: 3 }));
    usage.observe(request({ keyId: null, keyName: null, role: null, status: 401, routeClass: null, durationMs: 1 }));
    usage.observe(request({ keyId: null, keyName: null, role: null, status: 200, durationMs: 7 }));

    const alice = usage.query({ keyId: 'key_alice' });
    expect(alice.days).toEqual([
      {
        date: TODAY,
        keyId: 'key_alice',
        requests: 6,
        byStatus: { '2xx': 2, '3xx': 1, '4xx': 1, '5xx': 1 },
        errors: 2,
        prompts: 1,
        bytesIn: 100 * 4 + 10,
        bytesOut: 1000 * 4 + 5000,
        totalDurationMs: 10 + 2.5 + 80 + 1 + 40 + 60_000,
        maxDurationMs: 60_000,
        byRouteClass: { read: 4, generate: 2, manage: 0, install: 0 },
        wsSessions: 1,
        gpuSeconds: 0,
      },
    ]);
    expect(usage.query({ keyId: 'anonymous' }).days).toEqual([
      {
        date: TODAY,
        keyId: 'anonymous',
        ...usageWith({
          requests: 2,
          byStatus: { '2xx': 1, '3xx': 0, '4xx': 1, '5xx': 0 },
          errors: 1,
          bytesIn: 200,
          bytesOut: 2000,
          totalDurationMs: 8,
          maxDurationMs: 7,
          byRouteClass: { read: 1, generate: 0, manage: 0, install: 0 },
        }),
      },
    ]);

    const all = usage.query();
    expect(all.days.map((row) => row.keyId)).toEqual(['anonymous', 'key_alice', 'key_bob']);
    expect(all.totals).toMatchObject({ requests: 9, errors: 4, prompts: 1, wsSessions: 1, maxDurationMs: 60_000 });
    expect(all.totals.byStatus).toEqual({ '2xx': 3, '3xx': 1, '4xx': 3, '5xx': 1 });
  });

  it('ignores counters it cannot store instead of poisoning every later flush', async () => {
    const usage = await openUsage();
    usage.observe(request({ bytesIn: Number.NaN, bytesOut: -5, durationMs: Number.POSITIVE_INFINITY }));
    usage.observe(request({ keyId: '__proto__' }));
    await usage.flush();
    expect((await usageFile()).days[TODAY]).toEqual({
      key_alice: usageWith({
        requests: 1,
        byStatus: { '2xx': 1, '3xx': 0, '4xx': 0, '5xx': 0 },
        byRouteClass: { read: 1, generate: 0, manage: 0, install: 0 },
      }),
    });
    usage.observe(request());
    await usage.flush();
    expect((await usageFile()).days[TODAY]?.['key_alice']?.requests).toBe(2);
  });

  it('dates a request by the local calendar day it started on', async () => {
    const usage = await openUsage();
    const beforeMidnight = new Date(2025, 5, 14, 23, 59, 59, 999).getTime();
    const afterMidnight = new Date(2025, 5, 15, 0, 0, 0, 0).getTime();
    usage.observe(request({ time: beforeMidnight }));
    usage.observe(request({ time: afterMidnight }));
    usage.observe(request({ time: beforeMidnight }));
    expect(usage.query().days.map((row) => [row.date, row.requests])).toEqual([
      ['2025-06-14', 2],
      ['2025-06-15', 1],
    ]);
  });
});

describe('UsageAggregator persistence', () => {
  it('flushes to usage.json (0600), and a new aggregator on the same folder sees the totals', async () => {
    const first = await openUsage();
    for (let i = 0; i < 5; i++) first.observe(request());
    first.observe(request({ keyId: null, status: 500 }));
    await first.flush();

    const file = await usageFile();
    expect(file.days[TODAY]?.['key_alice']?.requests).toBe(5);
    expect(file.days[TODAY]?.['anonymous']?.errors).toBe(1);
    if (posix) expect((await stat(join(dataDir, 'usage.json'))).mode & 0o777).toBe(0o600);

    // Flushed counts leave the pending ones: neither a second flush nor the live query counts them twice.
    await first.flush();
    expect(first.query().totals.requests).toBe(6);
    expect((await usageFile()).days[TODAY]?.['key_alice']?.requests).toBe(5);

    await first.close();
    const second = await openUsage();
    expect(second.query().totals).toMatchObject({ requests: 6, errors: 1, bytesIn: 600, bytesOut: 6000 });
  });

  it('flushes on close', async () => {
    const usage = await UsageAggregator.open(dataDir, { flushIntervalMs: 60_000 });
    usage.observe(request({ time: Date.now() }));
    usage.observe(request({ time: Date.now(), promptId: 'p1' }));
    await usage.close();
    const file = await usageFile();
    expect(file.days[localDate(Date.now())]?.['key_alice']).toMatchObject({ requests: 2, prompts: 1 });
    await usage.close();
  });

  it('flushes on its timer, and only when something is pending', async () => {
    const usage = await openUsage({ flushIntervalMs: 40 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    await expect(stat(join(dataDir, 'usage.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    usage.observe(request());
    await waitFor(async () => {
      try {
        return (await usageFile()).days[TODAY]?.['key_alice']?.requests === 1;
      } catch {
        return false;
      }
    }, 3_000);
  });

  it('keeps requests observed while a flush is writing', async () => {
    const usage = await openUsage();
    usage.observe(request());
    const flushing = usage.flush();
    usage.observe(request({ durationMs: 500 }));
    usage.observe(request());
    expect(usage.query().totals.requests).toBe(3);
    await flushing;
    expect(usage.query().totals).toMatchObject({ requests: 3, totalDurationMs: 520, maxDurationMs: 500 });
    await usage.flush();
    expect((await usageFile()).days[TODAY]?.['key_alice']).toMatchObject({
      requests: 3,
      totalDurationMs: 520,
      maxDurationMs: 500,
    });
  });

  it('writes each request once when flushes overlap', async () => {
    const usage = await openUsage();
    usage.observe(request());
    usage.observe(request());
    await Promise.all([usage.flush(), usage.flush(), usage.flush()]);
    expect((await usageFile()).days[TODAY]?.['key_alice']?.requests).toBe(2);
    expect(usage.query().totals.requests).toBe(2);
  });

  it('keeps the counts pending when usage.json cannot be written, and writes them once it can', async () => {
    const usage = await openUsage();
    usage.observe(request());
    await usage.flush();
    const good = await readFile(join(dataDir, 'usage.json'), 'utf8');
    await writeFile(join(dataDir, 'usage.json'), '{ not json');
    usage.observe(request());
    usage.observe(request());
    await expect(usage.flush()).rejects.toThrow(/not valid/);
    expect(usage.query().totals.requests).toBe(3);

    await writeFile(join(dataDir, 'usage.json'), good);
    await usage.flush();
    expect((await usageFile()).days[TODAY]?.['key_alice']?.requests).toBe(3);
  });

  it('loses no counts when two gates flush the same usage.json at the same time', async () => {
    const a = await openUsage();
    const b = await openUsage();
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < 7; i++) a.observe(request({ promptId: 'p' }));
      for (let i = 0; i < 11; i++) b.observe(request({ keyId: i % 2 === 0 ? 'key_bob' : 'key_alice' }));
      await Promise.all([a.flush(), b.flush(), a.flush()]);
    }
    await Promise.all([a.close(), b.close()]);

    const day = (await usageFile()).days[TODAY];
    expect(day?.['key_alice']?.requests).toBe(rounds * (7 + 5));
    expect(day?.['key_alice']?.prompts).toBe(rounds * 7);
    expect(day?.['key_bob']?.requests).toBe(rounds * 6);
    const reopened = await openUsage();
    expect(reopened.query().totals.requests).toBe(rounds * 18);
  });
});

describe('UsageAggregator GPU seconds', () => {
  it('adds GPU seconds per key and day, flushes them without any request that day, and reads them back', async () => {
    const first = await openUsage();
    first.addGpuSeconds('key_alice', 2.5, NOON);
    first.addGpuSeconds('key_alice', 1.25, NOON);
    first.addGpuSeconds('anonymous', 4, NOON - DAY_MS);
    expect(first.query({ keyId: 'key_alice' }).days).toEqual([
      { date: TODAY, keyId: 'key_alice', ...usageWith({ gpuSeconds: 3.75 }) },
    ]);
    await first.flush();
    const file = await usageFile();
    expect(file.days[TODAY]?.['key_alice']).toEqual(usageWith({ gpuSeconds: 3.75 }));
    expect(file.days[shiftDate(TODAY, -1)]?.['anonymous']?.gpuSeconds).toBe(4);
    // Written once: a second flush adds nothing.
    await first.flush();
    expect((await usageFile()).days[TODAY]?.['key_alice']?.gpuSeconds).toBe(3.75);

    await first.close();
    const second = await openUsage();
    expect(second.query({ from: shiftDate(TODAY, -1) }).totals.gpuSeconds).toBe(7.75);
  });

  it('flushes GPU seconds on its timer, like requests', async () => {
    const usage = await openUsage({ flushIntervalMs: 40 });
    usage.addGpuSeconds('key_alice', 1.5, NOON);
    await waitFor(async () => {
      try {
        return (await usageFile()).days[TODAY]?.['key_alice']?.gpuSeconds === 1.5;
      } catch {
        return false;
      }
    }, 2_000);
  });

  it('reads a usage.json written before GPU time was measured as 0 GPU seconds', async () => {
    const old = emptyDayUsage() as Partial<DayUsage>;
    delete old.gpuSeconds;
    await mkdir(dataDir, { recursive: true });
    await writeFile(
      join(dataDir, 'usage.json'),
      JSON.stringify({ version: 1, days: { [TODAY]: { key_alice: { ...old, requests: 3 } } } })
    );
    const usage = await openUsage();
    expect(usage.query().totals).toMatchObject({ requests: 3, gpuSeconds: 0 });
    usage.addGpuSeconds('key_alice', 2, NOON);
    await usage.flush();
    expect((await usageFile()).days[TODAY]?.['key_alice']).toMatchObject({ requests: 3, gpuSeconds: 2 });
  });
});

describe('UsageAggregator retention and queries', () => {
  function stored(date: string, requests: number): [string, Record<string, DayUsage>] {
    return [date, { key_alice: usageWith({ requests, byStatus: { '2xx': requests, '3xx': 0, '4xx': 0, '5xx': 0 } }) }];
  }

  async function seed(days: Array<[string, Record<string, DayUsage>]>): Promise<void> {
    await mkdir(dataDir, { recursive: true });
    const file: UsageFile = { version: 1, days: Object.fromEntries(days) };
    await writeFile(join(dataDir, 'usage.json'), JSON.stringify(file), { mode: 0o600 });
  }

  it('drops days older than the retention at the next flush, and follows a live change of it', async () => {
    await seed([stored(shiftDate(TODAY, -120), 1), stored(shiftDate(TODAY, -30), 2), stored(shiftDate(TODAY, -5), 3)]);
    const usage = await openUsage({ retentionDays: 90 });
    // Older than the retention is out of every answer even before the flush removes it.
    expect(usage.query({ from: '2000-01-01' }).totals.requests).toBe(5);
    usage.observe(request({ time: NOON - 100 * DAY_MS }));
    await usage.flush();
    expect(Object.keys((await usageFile()).days).sort()).toEqual([shiftDate(TODAY, -30), shiftDate(TODAY, -5)]);

    usage.setRetentionDays(30);
    await usage.flush();
    expect(Object.keys((await usageFile()).days)).toEqual([shiftDate(TODAY, -5)]);
    expect(() => usage.setRetentionDays(0)).toThrow(RangeError);
  });

  it('prunes on its timer even when nothing is pending', async () => {
    await seed([stored(shiftDate(TODAY, -10), 1), stored(TODAY, 2)]);
    await openUsage({ retentionDays: 3, flushIntervalMs: 40 });
    await waitFor(async () => Object.keys((await usageFile()).days).length === 1, 3_000);
    expect((await usageFile()).days[TODAY]?.['key_alice']?.requests).toBe(2);
  });

  it('answers a date range, both ends included, by default the last 30 days', async () => {
    await seed([stored(shiftDate(TODAY, -40), 1), stored(shiftDate(TODAY, -29), 2), stored(shiftDate(TODAY, -3), 4)]);
    const usage = await openUsage();
    usage.observe(request({ time: NOON - 3 * DAY_MS }));
    usage.observe(request({ keyId: 'key_bob' }));

    const recent = usage.query();
    expect(recent.from).toBe(shiftDate(TODAY, -29));
    expect(recent.to).toBe(TODAY);
    expect(recent.days.map((row) => [row.date, row.keyId, row.requests])).toEqual([
      [shiftDate(TODAY, -29), 'key_alice', 2],
      [shiftDate(TODAY, -3), 'key_alice', 5],
      [TODAY, 'key_bob', 1],
    ]);
    expect(recent.totals.requests).toBe(8);

    const window = usage.query({ from: shiftDate(TODAY, -40), to: shiftDate(TODAY, -3) });
    expect(window.days.map((row) => row.requests)).toEqual([1, 2, 5]);
    expect(usage.query({ from: shiftDate(TODAY, -3), to: shiftDate(TODAY, -3) }).totals.requests).toBe(5);
    expect(usage.query({ to: shiftDate(TODAY, -29) }).days.map((row) => row.requests)).toEqual([1, 2]);
    expect(usage.query({ keyId: 'key_bob' }).days).toHaveLength(1);
    expect(usage.query({ keyId: 'key_nobody' })).toMatchObject({ days: [], totals: emptyDayUsage() });
  });
});

describe('with several gates (shareWith)', () => {
  function sharing(sums: Map<string, Map<string, DayUsage>>) {
    const added: Array<{ date: string; keyId: string; requests: number }> = [];
    return {
      added,
      sharing: {
        added: (rows: ReadonlyArray<{ date: string; keyId: string; requests: number }>) => added.push(...rows),
        sums: () => sums,
      },
    };
  }
  const withRequests = (requests: number): DayUsage => ({ ...emptyDayUsage(), requests });

  it('tells each flush to the sharing, and shows every gate sum plus what is still pending', async () => {
    const usage = await openUsage();
    const sums = new Map([[TODAY, new Map([['key_alice', withRequests(7)]])]]);
    const shared = sharing(sums);
    usage.shareWith(shared.sharing);
    usage.observe(request());
    usage.observe(request());
    await usage.flush();
    expect(shared.added.map(({ date, keyId, requests }) => ({ date, keyId, requests }))).toEqual([
      { date: TODAY, keyId: 'key_alice', requests: 2 },
    ]);
    usage.observe(request());
    // The sum (7, this gate's 2 included) instead of usage.json's 2, plus the 1 not flushed yet.
    expect(usage.query({ from: TODAY, to: TODAY }).totals.requests).toBe(8);
  });

  it("shows this gate's own count where the sum holds less (a Redis that lost its data)", async () => {
    const usage = await openUsage();
    for (let i = 0; i < 3; i++) usage.observe(request());
    await usage.flush();
    usage.shareWith(
      sharing(
        new Map([
          [
            TODAY,
            new Map([
              ['key_alice', withRequests(1)],
              ['key_bob', withRequests(4)],
            ]),
          ],
        ])
      ).sharing
    );
    const report = usage.query({ from: TODAY, to: TODAY });
    expect(report.days.map((row) => [row.keyId, row.requests])).toEqual([
      ['key_alice', 3],
      ['key_bob', 4],
    ]);
  });
});
