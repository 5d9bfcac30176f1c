import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, stopProcess, waitForLine } from '../helpers/cli.js';
import { withCliFixture } from '../helpers/cliFixture.js';
import { spawnRedisGate, type RedisGate } from '../helpers/redisGate.js';
import { call, sessionCookieOf } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { startRedisServer, type RedisServer } from '../helpers/redisServer.js';
import { RecordingSocket } from '../helpers/wsClient.js';

/**
 * Two real gate processes (`serve --redis`) sharing one real redis-server in front of one fake ComfyUI: what one of
 * them (or the CLI) changes is in force on the other before the API answers, and a Redis outage crashes neither.
 */
const fixture = withCliFixture('redis');
let redis: RedisServer;
const gates: RedisGate[] = [];
let adminKey: string;

async function startGate(): Promise<RedisGate> {
  const gate = await spawnRedisGate(await fixture.freshDir(), redis.url, [fixture.fake.url]);
  gates.push(gate);
  return gate;
}

function url(index: 0 | 1): string {
  return gates[index]!.url;
}

async function createKey(index: 0 | 1, name: string, limits?: object): Promise<{ id: string; key: string }> {
  const res = await call<{ id: string; key: string }>(`${url(index)}/gate/api/keys`, {
    headers: { 'x-api-key': adminKey },
    json: { name, ...(limits ? { limits } : {}) },
  });
  expect(res.status).toBe(201);
  return res.body;
}

async function proxiedStatus(index: 0 | 1, key: string): Promise<number> {
  return (await call(`${url(index)}/api/prompt`, { headers: { 'x-api-key': key } })).status;
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  redis = await startRedisServer();
  const first = await startGate();
  adminKey = (await waitForLine(first.child, /^\s+cgk_/)).trim();
  const second = await startGate();
  // The second gate found the keys in Redis: no key of its own.
  expect(await waitForLine(second.child, /^(\s+cgk_|Protection)/)).toMatch(/^Protection/);
}, 60_000);

afterAll(async () => {
  await Promise.all(gates.map((gate) => stopProcess(gate.child)));
  await redis?.stop();
});

describe('two gates sharing Redis', () => {
  it('a key created on gate 1 works on gate 2 at once', async () => {
    const { key } = await createKey(0, 'made on one');
    expect(await proxiedStatus(1, key)).toBe(200);
    expect(await proxiedStatus(0, key)).toBe(200);
  });

  it('revoking on gate 1 refuses the key on gate 2 and closes its WebSocket there within 1 s', async () => {
    const { id, key } = await createKey(0, 'to revoke');
    const socket = await RecordingSocket.open(`${url(1).replace('http', 'ws')}/ws?clientId=shared-1`, {
      headers: { 'x-api-key': key },
    });
    const res = await call(`${url(0)}/gate/api/keys/${id}`, {
      method: 'PATCH',
      headers: { 'x-api-key': adminKey },
      json: { active: false },
    });
    expect(res.status).toBe(200);
    expect(await proxiedStatus(1, key)).toBe(401);
    expect(await until(() => socket.closed !== undefined, 1_000)).toBe(true);
  });

  it('a session signed in on gate 1 works on gate 2, and its sign-out there too', async () => {
    const { key } = await createKey(0, 'browser');
    const login = await call(`${url(0)}/gate/login`, { json: { key } });
    expect(login.status).toBe(200);
    const cookie = sessionCookieOf(login);
    expect((await call(`${url(1)}/gate/api/whoami`, { headers: { cookie } })).status).toBe(200);
    const logout = await call(`${url(0)}/gate/logout`, { method: 'POST', headers: { cookie, origin: url(0) } });
    expect(logout.status).toBeLessThan(400);
    expect((await call(`${url(1)}/gate/api/whoami`, { headers: { cookie } })).status).toBe(401);
  });

  it('the CLI with --redis changes the keys of both gates before it returns', async () => {
    const cliDir = await fixture.freshDir();
    const created = await runCli([
      'keys',
      'create',
      '--name',
      'from cli',
      '--json',
      '--data-dir',
      cliDir,
      '--redis',
      redis.url,
    ]);
    expect(created.code, created.stderr).toBe(0);
    const { id, key } = JSON.parse(created.stdout) as { id: string; key: string };
    expect(await proxiedStatus(0, key)).toBe(200);
    expect(await proxiedStatus(1, key)).toBe(200);

    const listed = await runCli(['keys', 'list', '--json', '--data-dir', cliDir], { COMFYGATE_REDIS_URL: redis.url });
    expect((JSON.parse(listed.stdout) as Array<{ name: string }>).map((k) => k.name)).toContain('made on one');

    const revoked = await runCli(['keys', 'revoke', id, '--data-dir', cliDir, '--redis', redis.url]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(await proxiedStatus(0, key)).toBe(401);
    expect(await proxiedStatus(1, key)).toBe(401);
  });

  it('`comfygate status --redis` lists both gates as live replicas', async () => {
    const res = await runCli(['status', '--json', '--data-dir', gates[0]!.dataDir, '--redis', redis.url]);
    expect(res.code, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout) as { running: boolean; replicas: Array<{ live: boolean; pid: number }> };
    expect(report.running).toBe(true);
    expect(
      report.replicas
        .filter((replica) => replica.live)
        .map((replica) => replica.pid)
        .sort()
    ).toEqual(gates.map((gate) => gate.child.pid).sort());
  });

  it('a per-minute limit of 10 is one limit across both gates, with headers that count both', async () => {
    const { key } = await createKey(0, 'limited', { perMinute: 10 });
    const remaining: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await call(`${url((i % 2) as 0 | 1)}/api/prompt`, { headers: { 'x-api-key': key } });
      expect(res.status).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('10');
      remaining.push(String(res.headers['x-ratelimit-remaining']));
    }
    expect(remaining).toEqual(['9', '8', '7', '6', '5', '4', '3', '2', '1', '0']);
    for (const index of [0, 1] as const) {
      const refused = await call<{ error: { code: string } }>(`${url(index)}/api/prompt`, {
        headers: { 'x-api-key': key },
      });
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('rate_limit_minute');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('prompts per day are one count across both gates', async () => {
    const { key } = await createKey(0, 'two a day', { promptsPerDay: 2 });
    const queue = (index: 0 | 1) =>
      call<{ error?: { code: string } }>(`${url(index)}/api/prompt`, {
        headers: { 'x-api-key': key },
        json: { prompt: SMALL_PROMPT, client_id: 'shared-days' },
      });
    expect((await queue(0)).status).toBe(200);
    expect((await queue(1)).status).toBe(200);
    for (const index of [0, 1] as const) {
      const third = await queue(index);
      expect(third.status).toBe(429);
      expect(third.body.error?.code).toBe('rate_limit_prompts_day');
    }
  });

  it('a Redis outage crashes neither gate: auth goes on, changes get a clear 503, and state converges after', async () => {
    const { key } = await createKey(0, 'before the outage');
    const limited = await createKey(0, 'limited through the outage', { perMinute: 3 });
    await redis.kill();

    for (const index of [0, 1] as const) expect(await proxiedStatus(index, key)).toBe(200);
    // Each gate counts in its own windows meanwhile: 3 a minute on each.
    for (let i = 0; i < 3; i++) expect(await proxiedStatus(0, limited.key)).toBe(200);
    expect(await proxiedStatus(0, limited.key)).toBe(429);
    expect(await proxiedStatus(1, limited.key)).toBe(200);
    const refused = await call<{ error: { code: string; message: string } }>(`${url(1)}/gate/api/keys`, {
      headers: { 'x-api-key': adminKey },
      json: { name: 'during the outage' },
    });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('shared_state_unavailable');
    expect(refused.body.error.message).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+\) does not answer/);

    // Back, empty (nothing was persisted): the gates put their keys back, and changes flow again.
    await redis.restart();
    let made: { id: string; key: string } | undefined;
    expect(
      await until(async () => {
        const res = await call<{ id: string; key: string }>(`${url(1)}/gate/api/keys`, {
          headers: { 'x-api-key': adminKey },
          json: { name: 'after the outage' },
        });
        if (res.status === 201) made = res.body;
        return made !== undefined;
      }, 15_000)
    ).toBe(true);
    for (const index of [0, 1] as const) {
      expect(await proxiedStatus(index, made!.key)).toBe(200);
      expect(await proxiedStatus(index, key)).toBe(200);
    }
    for (const gate of gates) expect(gate.child.exitCode).toBeNull();
  }, 30_000);

  // Last: it locks out 127.0.0.1, the address every request of this file comes from.
  it('wrong keys on both gates add up to one lockout, in force on both', async () => {
    const { key } = await createKey(0, 'valid but locked out');
    for (let i = 0; i < 10; i++) {
      const res = await call(`${url((i % 2) as 0 | 1)}/api/prompt`, { headers: { 'x-api-key': `cgk_wrong-${i}` } });
      expect(res.status).toBe(401);
    }
    for (const index of [0, 1] as const) {
      const lockedOut = async (): Promise<boolean> => {
        const res = await call<{ error?: { code: string } }>(`${url(index)}/api/prompt`, {
          headers: { 'x-api-key': key },
        });
        return res.status === 429 && res.body.error?.code === 'locked_out';
      };
      expect(await until(lockedOut, 1_000)).toBe(true);
    }
  });
});
