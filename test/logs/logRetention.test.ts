import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logFileName } from '../../server/logs/logQuery.js';
import { RequestLog } from '../../server/logs/requestLog.js';
import type { RequestLogLine } from '../../server/logs/requestLogLine.js';
import type { FinishedRequest } from '../../server/observe/finishedRequest.js';
import { startFakeComfy } from '../fixtures/fakeComfy/index.js';
import { call } from '../helpers/http.js';
import { startTestGate } from '../helpers/testGate.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

function finished(i: number, time: number): FinishedRequest {
  return {
    kind: 'http',
    time,
    requestId: `req-${i}`,
    keyId: null,
    keyName: null,
    role: null,
    clientIp: '192.168.1.20',
    method: 'GET',
    path: '/queue',
    routeClass: 'read',
    status: 200,
    durationMs: 1,
    upstreamMs: 1,
    bytesIn: 0,
    bytesOut: 100,
  };
}

/** A log file written by an earlier run: created at `createdAt`, one line per time in `lineTimes`. */
async function oldFile(dir: string, createdAt: number, lineTimes: number[], padTo = 0): Promise<string> {
  const name = logFileName('requests', createdAt);
  let text = lineTimes
    .map((time, i) => JSON.stringify({ time: new Date(time).toISOString(), ...lineFields(`old-${createdAt}-${i}`) }))
    .join('\n');
  text += '\n';
  while (Buffer.byteLength(text) < padTo)
    text += JSON.stringify({ time: new Date(lineTimes.at(-1)!).toISOString(), ...lineFields('pad') }) + '\n';
  await writeFile(join(dir, name), text, { mode: 0o600 });
  // Last written when its last line was.
  const lastWrite = new Date(lineTimes.at(-1)!);
  await utimes(join(dir, name), lastWrite, lastWrite);
  return name;
}

function lineFields(requestId: string): Omit<RequestLogLine, 'time'> {
  return {
    requestId,
    keyId: null,
    keyName: null,
    clientIp: '192.168.1.20',
    method: 'GET',
    path: '/queue',
    status: 200,
    durationMs: 1,
    upstreamMs: 1,
    bytesIn: 0,
    bytesOut: 100,
    routeClass: 'read',
    kind: 'http',
  };
}

let dataDir: string;
let logsDir: string;
const opened: RequestLog[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-retention-'));
  logsDir = join(dataDir, 'logs');
  await mkdir(logsDir, { recursive: true, mode: 0o700 });
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((log) => log.close()));
  await rm(dataDir, { recursive: true, force: true });
});

async function files(): Promise<string[]> {
  return (await readdir(logsDir)).filter((name) => name.startsWith('requests')).sort();
}

describe('request log retention', () => {
  it('drops the files whose lines are all older than the kept days, oldest first, and says how far back it reaches', async () => {
    const now = Date.now();
    const tenDays = await oldFile(logsDir, now - 10 * DAY, [now - 10 * DAY, now - 9 * DAY]);
    const fiveDays = await oldFile(logsDir, now - 5 * DAY, [now - 5 * DAY + 1000, now - 4 * DAY]);
    const oneDay = await oldFile(logsDir, now - DAY, [now - DAY + 2000]);

    const log = await RequestLog.open({ dataDir, retention: { maxAgeMs: 7 * DAY, maxTotalBytes: 50 * 1024 * 1024 } });
    opened.push(log);
    // The ten-day file was last written 9 days ago: gone.
    expect(await files()).toEqual(expect.arrayContaining([fiveDays, oneDay]));
    expect(await files()).not.toContain(tenDays);
    expect(log.oldestTime).toBe(new Date(now - 5 * DAY + 1000).toISOString());

    // The five-day file was last written 4 days ago: kept for 5 days, dropped at 3.
    await log.setRetention({ maxAgeMs: 5 * DAY, maxTotalBytes: 50 * 1024 * 1024 });
    expect(await files()).toContain(fiveDays);
    await log.setRetention({ maxAgeMs: 3 * DAY, maxTotalBytes: 50 * 1024 * 1024 });
    expect(await files()).not.toContain(fiveDays);
    expect(log.oldestTime).toBe(new Date(now - DAY + 2000).toISOString());
  });

  it('keeps the newest files within the size budget, the file being written included', async () => {
    const now = Date.now();
    const names: string[] = [];
    const firstLineOf = new Map<string, number>();
    for (let k = 6; k >= 1; k--) {
      const name = await oldFile(logsDir, now - k * HOUR, [now - k * HOUR + 5], 20 * 1024);
      names.push(name);
      firstLineOf.set(name, now - k * HOUR + 5);
    }
    const log = await RequestLog.open({ dataDir, retention: { maxAgeMs: 7 * DAY, maxTotalBytes: 64 * 1024 } });
    opened.push(log);
    for (let i = 0; i < 50; i++) log.observe(finished(i, now));
    await log.flush();
    const kept = await files();
    let total = 0;
    for (const file of kept) total += (await stat(join(logsDir, file))).size;
    expect(total).toBeLessThanOrEqual(64 * 1024);
    // Only the oldest went, and whole files: what is left is the newest ones in order.
    const keptOld = names.filter((name) => kept.includes(name));
    expect(keptOld).toEqual(names.slice(names.length - keptOld.length));
    expect(keptOld.length).toBeGreaterThanOrEqual(1);
    expect(keptOld.length).toBeLessThan(names.length);
    expect(log.oldestTime).toBe(new Date(firstLineOf.get(keptOld[0]!)!).toISOString());

    // The newest lines go last: every line written in this run is still there.
    const page = await log.query({ limit: 1000 });
    expect(page.items.filter((line) => line.requestId.startsWith('req-'))).toHaveLength(50);
  });

  it('starts a new file every hour, so that age pruning can drop an hour at a time', async () => {
    let clock = Date.now();
    const log = await RequestLog.open({
      dataDir,
      retention: { maxAgeMs: 7 * DAY, maxTotalBytes: 50 * 1024 * 1024 },
      now: () => clock,
    });
    opened.push(log);
    log.observe(finished(0, clock));
    clock += HOUR - 1000;
    await log.maintain();
    log.observe(finished(1, clock));
    for (let hour = 2; hour <= 4; hour++) {
      clock += HOUR + 1000;
      await log.maintain();
      log.observe(finished(hour, clock));
    }
    await log.flush();
    const kept = await files();
    expect(kept).toHaveLength(4);
    const perFile = await Promise.all(
      kept.map(async (file) => (await readFile(join(logsDir, file), 'utf8')).split('\n').filter(Boolean).length)
    );
    expect(perFile).toEqual([2, 1, 1, 1]);
  });
});

describe('log retention setting', () => {
  it('is 7 days and 500 MB by default, validated, and GET /gate/api/logs says how far back the log reaches', async () => {
    const fake = await startFakeComfy();
    const now = Date.now();
    const dropped = await oldFile(logsDir, now - 30 * DAY, [now - 30 * DAY]);
    const kept = await oldFile(logsDir, now - 3 * DAY, [now - 3 * DAY + 7]);
    const gate = await startTestGate({ upstream: fake.url, mode: 'required', dataDir });
    try {
      const admin = { 'x-api-key': gate.adminKey };
      const settings = await call<{ logRetention: unknown }>(`${gate.url}/gate/api/settings`, { headers: admin });
      expect(settings.body.logRetention).toEqual({ days: 7, maxMegabytes: 500 });
      expect(await files()).toContain(kept);
      expect(await files()).not.toContain(dropped);

      const logs = await call<{ items: unknown[]; next: unknown; coverage: unknown }>(`${gate.url}/gate/api/logs`, {
        headers: admin,
      });
      expect(logs.status).toBe(200);
      expect(Array.isArray(logs.body.items)).toBe(true);
      expect(logs.body.coverage).toEqual({
        oldestTime: new Date(now - 3 * DAY + 7).toISOString(),
        retention: { days: 7, maxMegabytes: 500 },
      });

      for (const bad of [{ days: 0 }, { maxMegabytes: 1 }, { days: 2.5 }, { weeks: 1 }]) {
        const res = await call<{ error: { message: string } }>(`${gate.url}/gate/api/settings`, {
          method: 'PATCH',
          headers: admin,
          json: { logRetention: bad },
        });
        expect(res.status, JSON.stringify(bad)).toBe(400);
        expect(res.body.error.message).toContain('logRetention');
      }
      const patched = await call<{ logRetention: unknown }>(`${gate.url}/gate/api/settings`, {
        method: 'PATCH',
        headers: admin,
        json: { logRetention: { days: 1 } },
      });
      expect(patched.body.logRetention).toEqual({ days: 1, maxMegabytes: 500 });
      // Applied at once: the three-day-old file goes.
      const deadline = Date.now() + 5000;
      while ((await files()).includes(kept) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await files()).not.toContain(kept);
    } finally {
      await gate.stop();
      await fake.close();
    }
  });
});
