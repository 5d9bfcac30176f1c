import { type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { runCli, spawnCli, stopProcess, waitForLine } from '../helpers/cli.js';
import { call, sessionCookieOf } from '../helpers/http.js';

/**
 * Sign-out and its relatives must hold across restarts of the gate process, graceful or not: each
 * test ends sessions, then kills the gate (SIGKILL right after the API answered, or SIGTERM) and
 * checks the old credentials against the new process.
 */
let fake: FakeComfy;
let dataDir: string;
let child: ChildProcessWithoutNullStreams;
let url: string;
let adminKey: string;

async function startServe(): Promise<void> {
  child = spawnCli(['serve', '--upstream', fake.url, '--port', '0', '--data-dir', dataDir]);
  const line = await waitForLine(child, /^ComfyGate listening on /);
  url = line.replace('ComfyGate listening on ', '').trim();
}

async function restart(signal: NodeJS.Signals): Promise<void> {
  await stopProcess(child, signal);
  await startServe();
}

async function signIn(key: string): Promise<string> {
  const res = await call(`${url}/gate/login`, { json: { key } });
  expect(res.status).toBe(200);
  return sessionCookieOf(res);
}

async function newKey(name: string): Promise<{ id: string; key: string }> {
  const res = await call<{ id: string; key: string }>(`${url}/gate/api/keys`, {
    headers: { 'x-api-key': adminKey },
    json: { name },
  });
  expect(res.status).toBe(201);
  return res.body;
}

async function mintToken(key: string): Promise<string> {
  const res = await call<{ token: string }>(`${url}/gate/api/token`, { headers: { 'x-api-key': key }, json: {} });
  expect(res.status).toBe(200);
  return res.body.token;
}

/** Status of one proxied request and one gate API request with this cookie. */
async function withCookie(cookie: string): Promise<[number, number]> {
  const proxied = await call(`${url}/api/prompt`, { headers: { cookie } });
  const own = await call(`${url}/gate/api/whoami`, { headers: { cookie } });
  return [proxied.status, own.status];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withToken(token: string): Promise<number> {
  return (await call(`${url}/api/prompt?token=${token}`)).status;
}

beforeAll(async () => {
  fake = await startFakeComfy();
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-signout-'));
  await startServe();
  adminKey = (await waitForLine(child, /^\s+cgk_/)).trim();
}, 30_000);

afterAll(async () => {
  await stopProcess(child);
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('ended sessions stay ended across restarts', () => {
  it('a signed-out cookie is refused after a crash and a clean restart, admin API included', async () => {
    const signedOut = await signIn(adminKey);
    const other = await signIn(adminKey);
    const out = await call(`${url}/gate/logout`, { method: 'POST', headers: { cookie: signedOut, origin: url } });
    expect(out.status).toBe(303);

    await restart('SIGKILL');
    expect(await withCookie(signedOut)).toEqual([401, 401]);
    expect((await call(`${url}/gate/api/keys`, { headers: { cookie: signedOut } })).status).toBe(401);
    // Only that session ended: the other one, signed with the same secret, carries on.
    expect(await withCookie(other)).toEqual([200, 200]);
    expect((await call(`${url}/gate/api/keys`, { headers: { cookie: other } })).status).toBe(200);

    await restart('SIGTERM');
    expect(await withCookie(signedOut)).toEqual([401, 401]);
    expect(await withCookie(other)).toEqual([200, 200]);

    const file = join(dataDir, 'signed-out.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).not.toContain(signedOut.split('=')[1]);
  }, 60_000);

  it('"sign out everywhere" ends every session and access token of one key, and only of that key', async () => {
    const alice = await newKey('alice');
    const bob = await newKey('bob');
    const aliceCookies = [await signIn(alice.key), await signIn(alice.key)];
    const aliceToken = await mintToken(alice.key);
    const bobCookie = await signIn(bob.key);

    const ended = await call<{ id: string; sessionsEndedAt: string }>(
      `${url}/gate/api/keys/${alice.id}/sessions/revoke`,
      { method: 'POST', headers: { 'x-api-key': adminKey } }
    );
    expect(ended.status).toBe(200);
    expect(ended.body.id).toBe(alice.id);
    expect(Date.parse(ended.body.sessionsEndedAt)).toBeLessThanOrEqual(Date.now());
    for (const cookie of aliceCookies) expect(await withCookie(cookie)).toEqual([401, 401]);
    expect(await withToken(aliceToken)).toBe(401);

    await restart('SIGKILL');
    for (const cookie of aliceCookies) expect(await withCookie(cookie)).toEqual([401, 401]);
    expect(await withToken(aliceToken)).toBe(401);
    expect(await withCookie(bobCookie)).toEqual([200, 200]);
    // The key itself still works, and so does signing in again.
    expect((await call(`${url}/api/prompt`, { headers: { 'x-api-key': alice.key } })).status).toBe(200);
    expect(await withCookie(await signIn(alice.key))).toEqual([200, 200]);
  }, 60_000);

  it('a teammate can sign out all of their own sessions', async () => {
    const carol = await newKey('carol');
    const laptop = await signIn(carol.key);
    const phone = await signIn(carol.key);
    const out = await call(`${url}/gate/api/sessions/revoke`, {
      method: 'POST',
      headers: { cookie: laptop, origin: url },
      json: {},
    });
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');

    await restart('SIGKILL');
    expect(await withCookie(laptop)).toEqual([401, 401]);
    expect(await withCookie(phone)).toEqual([401, 401]);
  }, 60_000);

  it('`comfygate keys sign-out` from another terminal ends the sessions of a running gate, for good', async () => {
    const grace = await newKey('grace');
    const cookie = await signIn(grace.key);
    const out = await runCli(['keys', 'sign-out', grace.id, '--data-dir', dataDir]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`Signed key "grace" (${grace.id}) out everywhere`);
    // The running gate learns of the change by watching keys.json.
    const deadline = Date.now() + 10_000;
    while ((await withCookie(cookie))[0] !== 401 && Date.now() < deadline) await sleep(50);
    expect(await withCookie(cookie)).toEqual([401, 401]);

    await restart('SIGKILL');
    expect(await withCookie(cookie)).toEqual([401, 401]);
  }, 60_000);

  it('revoking and re-activating a key does not bring its old sessions back (API and CLI)', async () => {
    const dave = await newKey('dave');
    const viaApi = await signIn(dave.key);
    const viaApiToken = await mintToken(dave.key);
    const patch = (active: boolean) =>
      call(`${url}/gate/api/keys/${dave.id}`, {
        method: 'PATCH',
        headers: { 'x-api-key': adminKey },
        json: { active },
      });
    expect((await patch(false)).status).toBe(200);
    expect((await patch(true)).status).toBe(200);
    expect(await withCookie(viaApi)).toEqual([401, 401]);
    expect(await withToken(viaApiToken)).toBe(401);

    const viaCli = await signIn(dave.key);
    expect((await runCli(['keys', 'revoke', dave.id, '--data-dir', dataDir])).code).toBe(0);
    expect((await runCli(['keys', 'activate', dave.id, '--data-dir', dataDir])).code).toBe(0);

    await restart('SIGKILL');
    expect(await withCookie(viaApi)).toEqual([401, 401]);
    expect(await withCookie(viaCli)).toEqual([401, 401]);
    expect(await withToken(viaApiToken)).toBe(401);
    expect(await withCookie(await signIn(dave.key))).toEqual([200, 200]);
  }, 60_000);

  it('rotating or deleting a key ends its sessions for good', async () => {
    const erin = await newKey('erin');
    const frank = await newKey('frank');
    const erinCookie = await signIn(erin.key);
    const frankCookie = await signIn(frank.key);
    const rotated = await call<{ key: string }>(`${url}/gate/api/keys/${erin.id}/rotate`, {
      method: 'POST',
      headers: { 'x-api-key': adminKey },
    });
    expect(rotated.status).toBe(200);
    const deleted = await call(`${url}/gate/api/keys/${frank.id}`, {
      method: 'DELETE',
      headers: { 'x-api-key': adminKey },
    });
    expect(deleted.status).toBe(204);

    await restart('SIGKILL');
    expect(await withCookie(erinCookie)).toEqual([401, 401]);
    expect(await withCookie(frankCookie)).toEqual([401, 401]);
    expect(await withCookie(await signIn(rotated.body.key))).toEqual([200, 200]);
  }, 60_000);
});
