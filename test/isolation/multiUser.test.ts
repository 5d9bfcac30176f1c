// ComfyUI's --multi-user behind the gate: each isolated key gets its own ComfyUI user, whatever
// Comfy-User the client sends, so settings and saved workflows are each teammate's own.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ComfyUsers } from '../../server/isolation/comfyUsers.js';
import { Upstream } from '../../server/upstream/upstream.js';
import { CURRENT_FRONTEND_FIRST_VISIT, replayVisit, signIn, unexpectedAnswers } from '../helpers/frontendVisit.js';
import { call } from '../helpers/http.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';

interface UsersAnswer {
  storage: string;
  users: Record<string, string>;
}

const { fake, gate } = withGateAndComfy({
  comfy: { multiUser: true, users: { ops_1: 'ops' } },
  gate: { mode: 'required' },
});
const keys: Record<string, { key: string; id: string }> = {};

function as<T = unknown>(who: string, path: string, init: { json?: unknown; headers?: Record<string, string> } = {}) {
  const key = who === 'admin' ? gate.adminKey : keys[who]!.key;
  return call<T>(`${gate.url}${path}`, { headers: { 'x-api-key': key, ...init.headers }, json: init.json });
}

async function allUsers(): Promise<Record<string, string>> {
  const res = await call<UsersAnswer>(`${fake.url}/users`);
  return res.body.users;
}

beforeAll(async () => {
  for (const [name, role] of [
    ['alice', 'creator'],
    ['bob', 'creator'],
    ['olga', 'operator'],
  ] as const) {
    const res = await as<{ key: string; id: string }>('admin', '/gate/api/keys', { json: { name, role } });
    expect(res.status).toBe(201);
    keys[name] = res.body;
  }
  // The gate asks ComfyUI whether it runs with --multi-user once it first reaches it.
  for (let i = 0; i < 100; i++) {
    const own = await as<UsersAnswer>('alice', '/api/users');
    if (Object.keys(own.body.users).length === 1) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the gate never treated ComfyUI as --multi-user');
});

describe('Comfy-User from the key', () => {
  it('creates one ComfyUI user per key, named for the key, and shows a creator only theirs', async () => {
    const own = await as<UsersAnswer>('alice', '/api/users');
    expect(Object.values(own.body.users)).toEqual([`alice [${keys['alice']!.id}]`]);
    const users = await allUsers();
    expect(Object.values(users)).toContain(`alice [${keys['alice']!.id}]`);
    expect(Object.values(users).filter((name) => name.startsWith('alice')).length).toBe(1);
    const operators = await as<UsersAnswer>('olga', '/api/users');
    expect(Object.keys(operators.body.users)).toEqual(Object.keys(users));
  });

  it("keeps each teammate's settings apart, whatever Comfy-User they send", async () => {
    const alicesUser = Object.keys((await as<UsersAnswer>('alice', '/api/users')).body.users)[0]!;
    // Settings writes are the manage class; the operator's own Comfy-User passes as sent.
    const written = await as('olga', '/api/settings', {
      json: { 'Comfy.ColorPalette': 'light' },
      headers: { 'comfy-user': alicesUser },
    });
    expect(written.status).toBe(200);
    const bobs = await as<Record<string, unknown>>('bob', '/api/settings', { headers: { 'comfy-user': alicesUser } });
    expect(bobs.status).toBe(200);
    expect(bobs.body).toEqual({});
    const alices = await as<Record<string, unknown>>('alice', '/api/settings');
    expect(alices.body).toEqual({ 'Comfy.ColorPalette': 'light' });
  });

  it('lets a creator save their own settings, which no teammate sees; a viewer still may not', async () => {
    const saved = await as('bob', '/api/settings/Comfy.Sidebar.Size', { json: 'small' });
    expect(saved.status).toBe(200);
    expect((await as<Record<string, unknown>>('bob', '/api/settings')).body).toEqual({ 'Comfy.Sidebar.Size': 'small' });
    expect((await as<Record<string, unknown>>('alice', '/api/settings')).body).not.toHaveProperty('Comfy.Sidebar.Size');
    const viewer = await as<{ key: string }>('admin', '/gate/api/keys', { json: { name: 'vera', role: 'viewer' } });
    const refused = await call<{ error: { code: string } }>(`${gate.url}/api/settings`, {
      headers: { 'x-api-key': viewer.body.key },
      json: { 'Comfy.Sidebar.Size': 'large' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden_scope');
  });

  it("replays a creator's first visit of the current frontend into their own ComfyUI user, nothing refused", async () => {
    const answers = await replayVisit(
      gate.url,
      await signIn(gate.url, keys['alice']!.key),
      CURRENT_FRONTEND_FIRST_VISIT
    );
    expect(unexpectedAnswers(answers)).toEqual([]);
    const alicesUser = Object.keys((await as<UsersAnswer>('alice', '/api/users')).body.users)[0]!;
    const own = (path: string) => call(`${fake.url}${path}`, { headers: { 'comfy-user': alicesUser } });
    expect((await own('/api/settings/Comfy.TutorialCompleted')).body).toBe(true);
    expect((await own('/api/userdata/comfy.templates.json')).text).toContain('my group');
    // ComfyUI keeps it: the gate stores nothing of its own under --multi-user.
    expect(existsSync(join(gate.dataDir, 'teammates'))).toBe(false);
  });

  it('keeps saved workflows apart', async () => {
    const saved = await as('alice', '/api/userdata/workflows%2Fmine.json?overwrite=true', { json: { nodes: [] } });
    expect(saved.status).toBe(200);
    const bobs = await as<string[]>('bob', '/api/userdata?dir=workflows');
    expect(bobs.status === 404 || !bobs.body.includes('mine.json')).toBe(true);
    const alices = await as<string[]>('alice', '/api/userdata?dir=workflows');
    expect(alices.body).toContain('mine.json');
  });

  it('gives anonymous callers (mode optional) one shared user of their own', async () => {
    const patch = (mode: string) =>
      call(`${gate.url}/gate/api/settings`, {
        method: 'PATCH',
        headers: { 'x-api-key': gate.adminKey },
        json: { mode },
      });
    expect((await patch('optional')).status).toBe(200);
    try {
      const anonymous = await call<UsersAnswer>(`${gate.url}/api/users`);
      expect(Object.values(anonymous.body.users)).toEqual(['Anonymous [anonymous]']);
      const saved = await call(`${gate.url}/api/userdata/workflows%2Fanon.json`, { json: { nodes: [] } });
      expect(saved.status).toBe(200);
      const alices = await as<string[]>('alice', '/api/userdata?dir=workflows');
      expect(alices.body).not.toContain('anon.json');
    } finally {
      await patch('required');
    }
  });

  it('finds its users again after a restart of the gate, by the key id in their names', async () => {
    const upstream = new Upstream({ url: fake.url, connectTimeoutMs: 2_000 });
    const users = new ComfyUsers(upstream);
    try {
      await users.refresh();
      expect(users.multiUser(Date.now())).toBe(true);
      const before = Object.keys(await allUsers()).length;
      const alicesUser = Object.keys((await as<UsersAnswer>('alice', '/api/users')).body.users)[0];
      expect(users.userOf(keys['alice']!.id)).toBe(alicesUser);
      expect(await users.ensure(keys['alice']!.id, 'alice')).toBe(alicesUser);
      expect(Object.keys(await allUsers()).length).toBe(before);
    } finally {
      await upstream.close();
    }
  });
});
