import { NO_LIMITS } from '../../server/keys/keySchema.js';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, sessionCookieOf } from '../helpers/http.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';

const { fake, gate, admin } = withGateAndComfy({ gate: { mode: 'required' } });

interface KeyAnswer {
  key: string;
  id: string;
  name: string;
  role: string;
  hint: string;
  limits: Record<string, number | null>;
}

describe('keys API', () => {
  it('creates a key (201, plaintext once), lists, shows, updates, rotates and deletes it', async () => {
    const created = await admin<KeyAnswer>('POST', '/gate/api/keys', {
      name: 'Carol',
      role: 'viewer',
      note: 'night shift',
      limits: { perMinute: 30 },
    });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^cgk_[0-9A-Za-z]+$/);
    expect(created.body).toMatchObject({ name: 'Carol', role: 'viewer', note: 'night shift', active: true });
    expect(created.body.limits).toEqual({ ...NO_LIMITS, perMinute: 30 });
    expect(created.body.hint).toBe(`${created.body.key.slice(0, 8)}…${created.body.key.slice(-4)}`);
    const id = created.body.id;

    const list = await admin<Array<Record<string, unknown>>>('GET', '/gate/api/keys');
    expect(list.body.map((k) => k['id'])).toContain(id);
    expect(list.text).not.toContain(created.body.key);
    expect(list.text).not.toMatch(/"hash"|"key"/);

    const shown = await admin<Record<string, unknown>>('GET', `/gate/api/keys/${id}`);
    expect(shown.body).toMatchObject({ id, name: 'Carol', usage: { lastUsedAt: null } });

    const updated = await admin<Record<string, unknown>>('PATCH', `/gate/api/keys/${id}`, {
      name: 'Carol B',
      limits: { perHour: 100 },
    });
    expect(updated.body).toMatchObject({ name: 'Carol B', limits: { perMinute: 30, perHour: 100 } });

    const rotated = await admin<KeyAnswer>('POST', `/gate/api/keys/${id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ id, name: 'Carol B', limits: { perMinute: 30, perHour: 100 } });
    expect(rotated.body.key).not.toBe(created.body.key);

    expect((await admin('DELETE', `/gate/api/keys/${id}`)).status).toBe(204);
    expect((await admin('GET', `/gate/api/keys/${id}`)).status).toBe(404);
    expect((await admin('DELETE', `/gate/api/keys/${id}`)).body).toMatchObject({ error: { code: 'not_found' } });
  });

  it.each([
    [{}, /name/],
    [{ name: 'x', role: 'root' }, /role/],
    [{ name: 'x', limits: { perMinute: 0 } }, /perMinute/],
    [{ name: 'x', limits: { perSecond: 5 } }, /unknown field/],
    [{ name: 'x', expiresAt: '2001-01-01' }, /future/],
    [{ name: 'x', admin: true }, /unknown field/],
  ])('refuses a bad body %j with 400 naming the problem', async (body, message) => {
    const res = await admin<{ error: { code: string; message: string } }>('POST', '/gate/api/keys', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bad_request');
    expect(res.body.error.message).toMatch(message);
  });

  it('answers malformed JSON with 400 in the one error shape', async () => {
    const res = await call(`${gate.url}/gate/api/keys`, {
      method: 'POST',
      headers: { 'x-api-key': gate.adminKey, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'bad_request' } });
  });

  it('keeps keys.json, settings.json and the JWT secret private (0600) in a 0700 data dir', async () => {
    expect((await admin('PATCH', '/gate/api/settings', { mode: 'required' })).status).toBe(200);
    expect((await stat(gate.dataDir)).mode & 0o777).toBe(0o700);
    for (const file of ['keys.json', 'settings.json', 'jwt-secret']) {
      expect(((await stat(join(gate.dataDir, file))).mode & 0o777).toString(8)).toBe('600');
    }
    const stored = await readFile(join(gate.dataDir, 'keys.json'), 'utf8');
    expect(stored).not.toContain(gate.adminKey);
  });
});

describe('who may use the admin API', () => {
  let creator: KeyAnswer;

  beforeAll(async () => {
    creator = (await admin<KeyAnswer>('POST', '/gate/api/keys', { name: 'Dan', role: 'creator' })).body;
  });

  it('lets any key read its own record at /whoami, never the hash', async () => {
    const res = await call<Record<string, unknown>>(`${gate.url}/gate/api/whoami`, {
      headers: { 'x-api-key': creator.key },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: creator.id, name: 'Dan', role: 'creator' });
    expect(res.body['hash']).toBeUndefined();
    expect((await call(`${gate.url}/gate/api/whoami`)).status).toBe(401);
  });

  it.each([
    ['GET', '/gate/api/keys'],
    ['POST', '/gate/api/keys'],
    ['GET', '/gate/api/settings'],
    ['PATCH', '/gate/api/settings'],
    ['GET', '/gate/api/status'],
  ])('refuses %s %s to a creator with 403 and to nobody with 401', async (method, path) => {
    const asCreator = await call(`${gate.url}${path}`, {
      method,
      headers: { 'x-api-key': creator.key },
      json: method === 'GET' ? undefined : {},
    });
    expect(asCreator.status).toBe(403);
    expect(asCreator.body).toMatchObject({ error: { code: 'forbidden' } });
    const anonymous = await call(`${gate.url}${path}`, { method, json: method === 'GET' ? undefined : {} });
    expect(anonymous.status).toBe(401);
  });

  it('refuses admin calls from another origin, even with a valid key', async () => {
    const res = await admin('GET', '/gate/api/keys', undefined, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
  });

  it('refuses a non-loopback Host while listening on loopback (DNS rebinding)', async () => {
    const res = await admin('GET', '/gate/api/keys', undefined, { host: 'rebind.evil.example:8189' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: 'forbidden_origin' } });
    expect(
      (await admin('GET', '/gate/api/keys', undefined, { host: `localhost:${new URL(gate.url).port}` })).status
    ).toBe(200);
  });

  it('needs JSON for changes made with the session cookie (forms cannot forge them)', async () => {
    const cookie = sessionCookieOf(await call(`${gate.url}/gate/login`, { json: { key: gate.adminKey } }));
    const asForm = await call(`${gate.url}/gate/api/keys`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=csrf',
    });
    expect(asForm.status).toBe(400);
    const asJson = await call(`${gate.url}/gate/api/keys`, {
      headers: { cookie, origin: gate.url },
      json: { name: 'via cookie' },
    });
    expect(asJson.status).toBe(201);
  });

  it('reports status for the tray and dashboard', async () => {
    const res = await admin<Record<string, unknown>>('GET', '/gate/api/status');
    expect(res.body).toMatchObject({
      upstream: { url: fake.url, reachable: true, version: expect.any(String) as string, queueRemaining: 0 },
      // One ComfyUI is one backend, reported the same way as each of several.
      backends: [{ url: fake.url, label: 'backend 1', weight: 1, reachable: true, running: 0, pending: 0 }],
      mode: 'required',
      listen: { host: '127.0.0.1', port: Number(new URL(gate.url).port) },
      // A loopback gate: the link works on this computer only, and the status says so.
      share: {
        url: `${gate.url}/`,
        urls: [`${gate.url}/`],
        reachableFromLan: false,
        note: expect.stringMatching(/works on this computer only/) as string,
      },
      today: { requests: expect.any(Number) as number },
      openSockets: 0,
      warnings: [],
    });
  });

  it('saves start-up settings for the next start and tests an upstream URL', async () => {
    const saved = await admin<Record<string, unknown>>('PATCH', '/gate/api/settings/startup', { port: 9999 });
    expect(saved.body).toMatchObject({ saved: { port: 9999 }, restartNeeded: true });
    expect((await admin('PATCH', '/gate/api/settings/startup', { port: 'x' })).status).toBe(400);
    const several = await admin<Record<string, unknown>>('PATCH', '/gate/api/settings/startup', {
      upstreams: [
        { url: fake.url, label: 'gpu0' },
        { url: 'http://127.0.0.1:8190', weight: 2 },
      ],
    });
    expect(several.body).toMatchObject({
      saved: {
        upstreams: [
          { url: fake.url, label: 'gpu0' },
          { url: 'http://127.0.0.1:8190', weight: 2 },
        ],
      },
      restartNeeded: true,
    });
    expect((await admin('PATCH', '/gate/api/settings/startup', { upstreams: [{ url: 'ftp://x' }] })).status).toBe(400);
    // The same ComfyUI twice would stop the next start: refused now, by field.
    const twice = await admin<{ error: { fields: Record<string, string> } }>('PATCH', '/gate/api/settings/startup', {
      upstreams: [{ url: fake.url }, { url: `${fake.url}/` }],
    });
    expect(twice.status).toBe(400);
    expect(twice.body.error.fields).toEqual({ upstreams: 'a URL is listed twice' });
    // Saving one ComfyUI replaces the list: the next start uses what was saved last.
    const single = await admin<{ saved: Record<string, unknown> }>('PATCH', '/gate/api/settings/startup', {
      upstream: fake.url,
    });
    expect(single.body.saved).toEqual({ upstream: fake.url, port: 9999 });
    await admin('PATCH', '/gate/api/settings/startup', { upstream: null });
    const reset = await admin<Record<string, unknown>>('PATCH', '/gate/api/settings/startup', { port: null });
    expect(reset.body).toMatchObject({ saved: {}, restartNeeded: false });
    const probe = await admin('POST', '/gate/api/settings/test-upstream', { url: fake.url });
    expect(probe.body).toEqual({ url: fake.url, reachable: true });
    const dead = await admin('POST', '/gate/api/settings/test-upstream', { url: 'http://127.0.0.1:1' });
    expect(dead.body).toEqual({ url: 'http://127.0.0.1:1', reachable: false });
  });

  it('validates settings and applies them', async () => {
    expect((await admin('PATCH', '/gate/api/settings', { mode: 'sometimes' })).status).toBe(400);
    expect((await admin('PATCH', '/gate/api/settings', { publicPaths: ['no-slash'] })).status).toBe(400);
    const ok = await admin('PATCH', '/gate/api/settings', { publicPaths: ['/system_stats'] });
    expect(ok.body).toMatchObject({ mode: 'required', publicPaths: ['/system_stats'] });
    await admin('PATCH', '/gate/api/settings', { publicPaths: [] });
  });
});

describe('the CLI and the running gate share the data dir', () => {
  it('loses nothing when 50 keys come from the CLI while 50 come through the API', async () => {
    const script = fileURLToPath(new URL('./fixtures/createKeysWithCli.ts', import.meta.url));
    const cli = spawn(process.execPath, ['--import', 'tsx', script, gate.dataDir, '50'], { stdio: 'ignore' });
    const cliDone = new Promise<number | null>((resolve) => cli.on('exit', resolve));
    const viaApi = [];
    for (let i = 0; i < 50; i++) viaApi.push(admin('POST', '/gate/api/keys', { name: `api-${i}` }));
    const answers = await Promise.all(viaApi);
    expect(answers.every((a) => a.status === 201)).toBe(true);
    expect(await cliDone).toBe(0);

    // The gate learns of the CLI's writes through its file watcher, within a second.
    const ours = (names: string[]) => names.filter((n) => /^(cli|api)-\d+$/.test(n));
    let seen: string[] = [];
    for (let attempt = 0; attempt < 20 && ours(seen).length < 100; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      seen = (await admin<Array<{ name: string }>>('GET', '/gate/api/keys')).body.map((k) => k.name);
    }
    expect(seen.filter((n) => n.startsWith('cli-'))).toHaveLength(50);
    expect(seen.filter((n) => n.startsWith('api-'))).toHaveLength(50);

    const stored = JSON.parse(await readFile(join(gate.dataDir, 'keys.json'), 'utf8')) as {
      keys: Array<{ name: string }>;
    };
    expect(stored.keys.filter((k) => /^(cli|api)-\d+$/.test(k.name))).toHaveLength(100);
  });
});
