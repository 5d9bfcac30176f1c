import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionTokens } from '../../server/auth/sessionTokens.js';
import type { ErrorCode } from '../../server/errors.js';
import { generateKey } from '../../server/keys/keyFormat.js';
import { BATCH_FLUSH_MS } from '../../server/logs/jsonlLogFile.js';
import { logFileName } from '../../server/logs/logQuery.js';
import { redactSecrets } from '../../server/logs/redactSecrets.js';
import { RequestLog } from '../../server/logs/requestLog.js';
import type { RequestLogLine } from '../../server/logs/requestLogLine.js';
import { parseStatusFilter } from '../../server/logs/requestQuery.js';
import type { FinishedRequest } from '../../server/observe/finishedRequest.js';
import { memorySignOuts } from '../helpers/signOuts.js';

const T0 = Date.parse('2025-06-01T12:00:00.000Z');

function finished(i: number, overrides: Partial<FinishedRequest> = {}): FinishedRequest {
  return {
    kind: 'http',
    time: T0 + i * 1000,
    requestId: `req-${i}`,
    keyId: i % 3 === 0 ? null : `key_${i % 3}`,
    keyName: i % 3 === 0 ? null : `Teammate ${i % 3}`,
    role: i % 3 === 0 ? null : 'creator',
    clientIp: '192.168.1.20',
    method: i % 2 === 0 ? 'GET' : 'POST',
    path: i % 2 === 0 ? `/view/image_${i}.png` : '/prompt',
    routeClass: i % 2 === 0 ? 'read' : 'generate',
    status: [200, 404, 429, 502][i % 4]!,
    durationMs: 12.345,
    upstreamMs: 10.04,
    bytesIn: 10,
    bytesOut: 2000,
    ...overrides,
  };
}

let dataDir: string;
let logsDir: string;
const opened: RequestLog[] = [];

async function openLog(options: Partial<Parameters<typeof RequestLog.open>[0]> = {}): Promise<RequestLog> {
  const log = await RequestLog.open({ dataDir, ...options });
  opened.push(log);
  return log;
}

async function logFiles(): Promise<string[]> {
  return (await readdir(logsDir)).filter((name) => name.startsWith('requests')).sort();
}

function bytesOnDiskNow(): number {
  let total = 0;
  for (const name of readdirSync(logsDir)) total += statSync(join(logsDir, name)).size;
  return total;
}

async function allLines(): Promise<RequestLogLine[]> {
  const lines: RequestLogLine[] = [];
  for (const file of await logFiles()) {
    const text = await readFile(join(logsDir, file), 'utf8');
    for (const line of text.split('\n')) if (line) lines.push(JSON.parse(line) as RequestLogLine);
  }
  return lines;
}

async function allPages(log: RequestLog, query: Parameters<RequestLog['query']>[0] = {}): Promise<RequestLogLine[]> {
  const items: RequestLogLine[] = [];
  let before: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await log.query({ ...query, before });
    items.push(...page.items);
    if (page.next === null) return items;
    before = page.next;
  }
  throw new Error('paging did not end');
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-requestlog-'));
  logsDir = join(dataDir, 'logs');
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((log) => log.close()));
  await rm(dataDir, { recursive: true, force: true });
});

describe('RequestLog', () => {
  it('writes one JSON line per finished request, with the documented fields', async () => {
    const log = await openLog();
    log.observe(finished(1, { promptId: 'p-1' }));
    log.observe(finished(2, { refusal: 'rate_limit_minute', upstreamMs: null, kind: 'ws', status: 101 }));
    await log.flush();

    const files = await logFiles();
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^requests-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.jsonl$/);
    const text = await readFile(join(logsDir, files[0]!), 'utf8');
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    const first: unknown = JSON.parse(lines[0]!);
    expect(first).toEqual({
      time: '2025-06-01T12:00:01.000Z',
      requestId: 'req-1',
      keyId: 'key_1',
      keyName: 'Teammate 1',
      clientIp: '192.168.1.20',
      method: 'POST',
      path: '/prompt',
      status: 404,
      durationMs: 12.3,
      upstreamMs: 10,
      bytesIn: 10,
      bytesOut: 2000,
      routeClass: 'generate',
      kind: 'http',
      promptId: 'p-1',
    });
    expect(Object.keys(first as object)[0]).toBe('time');
    expect(JSON.parse(lines[1]!)).toMatchObject({
      kind: 'ws',
      status: 101,
      upstreamMs: null,
      refusal: 'rate_limit_minute',
    });
    expect(log.recent().map((line) => line.requestId)).toEqual(['req-2', 'req-1']);
  });

  it('creates the folder 0700 and the files 0600', async () => {
    if (process.platform === 'win32') return;
    const log = await openLog({ maxBytes: 2048, maxFiles: 3 });
    for (let i = 0; i < 30; i++) log.observe(finished(i));
    await log.close();
    expect((await stat(logsDir)).mode & 0o777).toBe(0o700);
    const files = await logFiles();
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) expect((await stat(join(logsDir, file))).mode & 0o777).toBe(0o600);
  });

  it('rotates at the size limit and keeps at most maxFiles files, newest lines kept', async () => {
    const log = await openLog({ maxBytes: 10 * 1024, maxFiles: 3 });
    for (let i = 0; i < 600; i++) log.observe(finished(i));
    await log.close();

    const files = await logFiles();
    expect(files).toHaveLength(3);
    for (const file of files) expect((await stat(join(logsDir, file))).size).toBeLessThanOrEqual(10 * 1024);
    const ids = (await allLines()).map((line) => line.requestId);
    // Contiguous and ending with the newest: only whole old files were removed.
    expect(ids.at(-1)).toBe('req-599');
    const firstKept = Number(ids[0]!.slice(4));
    expect(ids).toEqual(Array.from({ length: 600 - firstKept }, (_, k) => `req-${firstKept + k}`));
    expect(ids.length).toBeGreaterThan(60);
  });

  it('appends to the newest file while it has room, and prunes files of an earlier run', async () => {
    let log = await openLog({ maxBytes: 4096, maxFiles: 2 });
    for (let i = 0; i < 3; i++) log.observe(finished(i));
    await log.close();
    const [first] = await logFiles();

    log = await openLog({ maxBytes: 4096, maxFiles: 2 });
    expect(log.currentFile).toBe(first);
    log.observe(finished(3));
    await log.close();
    expect(await logFiles()).toEqual([first]);
    expect((await allLines()).map((line) => line.requestId)).toEqual(['req-0', 'req-1', 'req-2', 'req-3']);

    const leftovers = [1, 2, 3].map((k) => logFileName('requests', T0 + k));
    for (const file of leftovers) await writeFile(join(logsDir, file), '{"time":"x"}\n', { mode: 0o600 });
    log = await openLog({ maxBytes: 4096, maxFiles: 2 });
    for (let i = 4; i < 100; i++) log.observe(finished(i));
    await log.close();
    const after = await logFiles();
    expect(after).toHaveLength(2);
    expect(after.some((file) => leftovers.includes(file) || file === first)).toBe(false);
  });

  it('never writes a key, a JWT or a token parameter, wherever one is smuggled in', async () => {
    const tokens = new SessionTokens(randomBytes(32), memorySignOuts());
    const jwt = tokens.sign('session', 'key_abc', 'v1', 60).token;
    const key = generateKey();
    const log = await openLog();
    log.observe(
      finished(1, {
        path: `/view/${key}/x.png`,
        keyName: `named ${key}`,
        // Refusals are typed codes; the log still redacts whatever reaches it.
        refusal: `bad ${jwt}` as ErrorCode,
        promptId: key,
        requestId: jwt,
        clientIp: `1.2.3.4 ${key}`,
        method: `GET${key}`,
        keyId: key,
      })
    );
    log.observe(finished(2, { path: `/api/view?token=${encodeURIComponent(key)}&a=1` }));
    log.observe(finished(3, { path: `/ws;token=abc/${jwt}` }));
    await log.close();

    const text = (await Promise.all((await logFiles()).map((file) => readFile(join(logsDir, file), 'utf8')))).join('');
    expect(text.split('\n').filter(Boolean)).toHaveLength(3);
    expect(text).not.toContain('cgk_');
    expect(text).not.toContain('eyJ');
    expect(text).not.toContain(key.slice(4, 20));
    expect(text).not.toContain(jwt.split('.')[2]!);
    expect(text).toContain('/view/[redacted-key]/x.png');
    expect(text).toContain('/api/view?token=[redacted]&a=1');
    const served = JSON.stringify(await log.query({}));
    expect(served).not.toContain('cgk_');
    expect(served).not.toContain('eyJ');
  });

  it('redacts only what looks like a credential', () => {
    expect(redactSecrets('/view/photo.png')).toBe('/view/photo.png');
    expect(redactSecrets('/prompt')).toBe('/prompt');
    expect(redactSecrets('a cgk_Abc123 b')).toBe('a [redacted-key] b');
    expect(redactSecrets('x eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJrIn0.sig-_x y')).toBe('x [redacted-token] y');
  });

  describe('queries', () => {
    const total = 300;

    async function filled(ringSize: number): Promise<RequestLog> {
      const log = await openLog({ ringSize });
      for (let i = 0; i < total; i++) log.observe(finished(i));
      await log.flush();
      return log;
    }

    const newestFirst = (ids: number[]) => ids.sort((a, b) => b - a).map((i) => `req-${i}`);
    const range = (predicate: (i: number) => boolean) => newestFirst([...Array(total).keys()].filter(predicate));

    it.each([
      ['the ring holds everything', 1000],
      ['the ring holds the newest 40', 40],
      ['the ring holds one', 1],
    ])('pages newest first without gaps or repeats (%s)', async (_name, ringSize) => {
      const log = await filled(ringSize);
      const first = await log.query({ limit: 25 });
      expect(first.items.map((line) => line.requestId)).toEqual(range((i) => i >= total - 25));
      expect(first.next).toEqual(expect.any(String));

      const all = await allPages(log, { limit: 7 });
      expect(all.map((line) => line.requestId)).toEqual(range(() => true));
    });

    it.each([
      [{ key: 'key_1' }, (i: number) => i % 3 === 1],
      [{ key: 'anonymous' }, (i: number) => i % 3 === 0],
      [{ status: parseStatusFilter('404') }, (i: number) => i % 4 === 1],
      [{ status: parseStatusFilter('4xx') }, (i: number) => i % 4 === 1 || i % 4 === 2],
      [{ status: parseStatusFilter('5XX') }, (i: number) => i % 4 === 3],
      [{ path: '/view/image_1' }, (i: number) => i % 2 === 0 && String(i).startsWith('1')],
      [{ path: '/prompt', key: 'key_2' }, (i: number) => i % 2 === 1 && i % 3 === 2],
      [{ since: T0 + 250_000 }, (i: number) => i >= 250],
      [{ until: T0 + 20_000 }, (i: number) => i <= 20],
      [
        { since: T0 + 100_000, until: T0 + 109_500, status: parseStatusFilter('2xx') },
        (i: number) => i >= 100 && i <= 109 && i % 4 === 0,
      ],
    ])('filters %j, from the ring and from the files', async (filter, predicate) => {
      const expected = range(predicate);
      for (const ringSize of [1000, 30]) {
        const log = await filled(ringSize);
        expect((await allPages(log, { ...filter, limit: 9 })).map((line) => line.requestId)).toEqual(expected);
        await log.close();
        await rm(logsDir, { recursive: true, force: true });
      }
    });

    it('answers from the files alone after a restart', async () => {
      const log = await filled(1000);
      await log.close();
      const reopened = await openLog({ ringSize: 50 });
      expect(reopened.recent()).toHaveLength(50);
      expect(reopened.recent(1)[0]?.requestId).toBe(`req-${total - 1}`);
      expect((await allPages(reopened, { limit: 13 })).map((line) => line.requestId)).toEqual(range(() => true));
      expect((await allPages(reopened, { key: 'key_2', limit: 1000 })).map((line) => line.requestId)).toEqual(
        range((i) => i % 3 === 2)
      );
    });

    it('stops at the limit, defaults to 100 and caps at 1000', async () => {
      const log = await filled(10);
      expect((await log.query({})).items).toHaveLength(100);
      expect((await log.query({ limit: 1 })).items).toHaveLength(1);
      expect((await log.query({ limit: 5000 })).items).toHaveLength(total);
      const last = await log.query({ limit: total });
      expect(last.items).toHaveLength(total);
      const after = await log.query({ limit: total, before: last.next ?? undefined });
      expect(after).toEqual({ items: [], next: null });
    });

    it('refuses a cursor it did not make', async () => {
      const log = await filled(10);
      const forged = Buffer.from(JSON.stringify(['../keys.json', 0])).toString('base64url');
      await expect(log.query({ before: forged })).rejects.toMatchObject({ code: 'bad_request', status: 400 });
      await expect(log.query({ before: 'nonsense' })).rejects.toMatchObject({ status: 400 });
    });
  });

  it('skips a half-written last line and starts a fresh file after a crash', async () => {
    await mkdir(logsDir, { recursive: true });
    const crashed = logFileName('requests', Date.now() - 60_000);
    const good = JSON.stringify({ ...finished(1), time: new Date(T0).toISOString(), role: undefined });
    await writeFile(join(logsDir, crashed), `${good}\n{"time":"2025-06-01T12:00:0`, { mode: 0o600 });
    const log = await openLog();
    expect(log.recent().map((line) => line.requestId)).toEqual(['req-1']);
    expect(log.currentFile).not.toBe(crashed);
    log.observe(finished(2));
    await log.flush();
    expect((await log.query({})).items.map((line) => line.requestId)).toEqual(['req-2', 'req-1']);
    expect(await readFile(join(logsDir, crashed), 'utf8')).toMatch(/12:00:0$/);
  });

  it('writes a line held in the write batch within the flush interval, without being asked to', async () => {
    const log = await openLog();
    log.observe(finished(1));
    const started = Date.now();
    while (bytesOnDiskNow() === 0 && Date.now() - started < BATCH_FLUSH_MS * 3) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await allLines()).map((line) => line.requestId)).toEqual(['req-1']);
    await log.close();
  });

  it('never waits for the disk: 20k requests in one burst, all written afterwards', async () => {
    const log = await openLog({ maxBytes: 1024 * 1024, maxFiles: 3 });
    for (let i = 0; i < 20_000; i++) log.observe(finished(i));
    // Still the same tick: writes are asynchronous and each next one starts from the previous one's callback, so
    // a log that waited for the disk would have written the burst by now, a non-blocking one at most the first
    // batch of each file (handed to libuv's thread pool, which may finish it while this loop still runs).
    const duringBurst = bytesOnDiskNow();
    await log.close();
    expect(duringBurst).toBeLessThan(bytesOnDiskNow() / 4);
    expect(log.droppedLines).toBe(0);
    expect((await allLines()).at(-1)?.requestId).toBe('req-19999');
  });
});
