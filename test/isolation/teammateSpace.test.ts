// Teammates' own space without ComfyUI's --multi-user: ComfyUI has one user for everyone, so the gate
// keeps each isolated key's settings and node templates apart, and a creator's first visit of either
// frontend answers as ComfyUI would. Operators keep writing ComfyUI's real settings.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { gateConfigSchema } from '../../server/config/schema.js';
import { startGate } from '../../server/gate.js';
import { TeammateSpaces } from '../../server/isolation/teammateSpaces.js';
import {
  CURRENT_FRONTEND_FIRST_VISIT,
  LEGACY_FRONTEND_FIRST_VISIT,
  replayVisit,
  signIn,
  unexpectedAnswers,
} from '../helpers/frontendVisit.js';
import { call } from '../helpers/http.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';

interface ErrorAnswer {
  error: { code: string; message: string };
}

const { fake, gate } = withGateAndComfy({ gate: { mode: 'required' } });
const keys: Record<string, { key: string; id: string }> = {};

function as<T = unknown>(who: string, path: string, init: { json?: unknown; body?: string; method?: string } = {}) {
  const key = who === 'admin' ? gate.adminKey : keys[who]!.key;
  return call<T>(`${gate.url}${path}`, { headers: { 'x-api-key': key }, ...init });
}

/** ComfyUI's own settings file (its one user), asked directly. */
async function comfySettings(): Promise<Record<string, unknown>> {
  return (await call<Record<string, unknown>>(`${fake.url}/api/settings`)).body;
}

beforeAll(async () => {
  for (const [name, role] of [
    ['alice', 'creator'],
    ['bob', 'creator'],
    ['cleo', 'creator'],
    ['olga', 'operator'],
    ['vera', 'viewer'],
  ] as const) {
    const res = await as<{ key: string; id: string }>('admin', '/gate/api/keys', { json: { name, role } });
    expect(res.status).toBe(201);
    keys[name] = res.body;
  }
});

describe("a creator's first visit without --multi-user", () => {
  it('replays the current frontend’s first visit with no refused request', async () => {
    const answers = await replayVisit(
      gate.url,
      await signIn(gate.url, keys['alice']!.key),
      CURRENT_FRONTEND_FIRST_VISIT
    );
    expect(unexpectedAnswers(answers)).toEqual([]);
    const tutorial = answers.find((a) => a.step.method === 'GET' && a.step.path.endsWith('Comfy.TutorialCompleted'));
    expect(tutorial?.res.body).toBe(true);
    // Nothing of it reached ComfyUI's shared settings.
    expect(await comfySettings()).not.toHaveProperty('Comfy.InstalledVersion');
  });

  it('replays the older frontend’s migration of local settings and templates with no refused request', async () => {
    const answers = await replayVisit(gate.url, await signIn(gate.url, keys['bob']!.key), LEGACY_FRONTEND_FIRST_VISIT);
    expect(unexpectedAnswers(answers)).toEqual([]);
    const settings = answers.find((a) => a.step.method === 'GET' && a.step.path === '/api/settings');
    expect(settings?.res.body).toMatchObject({ 'Comfy.LinkRenderMode': 2, 'Comfy.ConfirmClear': false });
    expect(await comfySettings()).not.toHaveProperty('Comfy.LinkRenderMode');
  });
});

describe("each teammate's settings", () => {
  it('are the caller’s alone: teammates, the operator and ComfyUI never see them', async () => {
    expect((await as('alice', '/api/settings/Comfy.ColorPalette', { json: 'light' })).status).toBe(200);
    expect((await as('alice', '/api/settings/Comfy.ColorPalette')).body).toBe('light');
    expect((await as<Record<string, unknown>>('alice', '/api/settings')).body).toMatchObject({
      'Comfy.ColorPalette': 'light',
    });
    expect((await as('bob', '/api/settings/Comfy.ColorPalette')).body).toBeNull();
    expect((await as<Record<string, unknown>>('bob', '/settings')).body).not.toHaveProperty('Comfy.ColorPalette');
    expect((await as<Record<string, unknown>>('olga', '/api/settings')).body).not.toHaveProperty('Comfy.ColorPalette');
    expect(await comfySettings()).not.toHaveProperty('Comfy.ColorPalette');
  });

  it('sit on top of ComfyUI’s real settings, which the operator keeps writing', async () => {
    expect((await as('olga', '/api/settings', { json: { 'Comfy.Locale': 'fr', 'Comfy.GridSize': 20 } })).status).toBe(
      200
    );
    expect(await comfySettings()).toMatchObject({ 'Comfy.Locale': 'fr', 'Comfy.GridSize': 20 });
    expect((await as('alice', '/api/settings', { json: { 'Comfy.GridSize': 5 } })).status).toBe(200);
    expect((await as<Record<string, unknown>>('alice', '/api/settings')).body).toMatchObject({
      'Comfy.Locale': 'fr',
      'Comfy.GridSize': 5,
    });
    expect((await as('alice', '/api/settings/Comfy.Locale')).body).toBe('fr');
    expect((await as<Record<string, unknown>>('cleo', '/api/settings')).body).toMatchObject({ 'Comfy.GridSize': 20 });
    expect(await comfySettings()).toMatchObject({ 'Comfy.GridSize': 20 });
  });

  it('are kept per key in the data dir, 0600, and read back by a new gate process', async () => {
    expect((await as('cleo', '/api/settings/Comfy.Sidebar.Size', { json: 'small' })).status).toBe(200);
    const file = join(gate.dataDir, 'teammates', `${keys['cleo']!.id}.json`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const space = await new TeammateSpaces(gate.dataDir).get(keys['cleo']!.id);
    expect(space.settings).toEqual({ 'Comfy.Sidebar.Size': 'small' });
  });

  it('refuse what cannot be kept with a clear message, and keep what was there', async () => {
    const notJson = await as<ErrorAnswer>('cleo', '/api/settings/Comfy.Sidebar.Size', { body: '{oops' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.message).toMatch(/not JSON/);
    const notObject = await as<ErrorAnswer>('cleo', '/api/settings', { json: ['a'] });
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.message).toMatch(/JSON object/);
    const huge = await as<ErrorAnswer>('cleo', '/api/settings/Comfy.Huge', { json: 'x'.repeat(5 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload_too_large');
    const prototype = await as<ErrorAnswer>('cleo', '/api/settings/__proto__', { json: { polluted: true } });
    expect(prototype.status).toBe(400);
    expect((await as('cleo', '/api/settings/Comfy.Sidebar.Size')).body).toBe('small');
  });

  it('stay closed to viewers, who may not write', async () => {
    const refused = await as<ErrorAnswer>('vera', '/api/settings/Comfy.ColorPalette', { json: 'dark' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden_scope');
  });
});

describe("each teammate's node templates", () => {
  it('are the caller’s own; until then ComfyUI’s shared file shows', async () => {
    const shared = '[{"name":"from the operator","data":"{}"}]';
    expect((await as('olga', '/api/userdata/comfy.templates.json', { body: shared })).status).toBe(200);
    expect((await as('cleo', '/api/userdata/comfy.templates.json')).text).toBe(shared);

    const own = '[{"name":"cleo’s","data":"{}"}]';
    const saved = await as<{ path: string; size: number; modified: number }>(
      'cleo',
      '/api/userdata/comfy.templates.json?overwrite=true&full_info=true',
      { body: own }
    );
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ path: 'comfy.templates.json', size: Buffer.byteLength(own) });
    expect((await as('cleo', '/api/userdata/comfy.templates.json')).text).toBe(own);
    expect((await as('bob', '/api/userdata/comfy.templates.json')).text).not.toBe(own);
    expect((await call(`${fake.url}/api/userdata/comfy.templates.json`)).text).toBe(shared);
  });

  it('answer 409 like ComfyUI when the caller’s own file exists and overwrite=false', async () => {
    const again = await as('cleo', '/api/userdata/comfy.templates.json?overwrite=false', { body: '[]' });
    expect(again.status).toBe(409);
    expect(again.text).toBe('File already exists');
  });
});

describe('saved workflows, which teammates share without --multi-user', () => {
  const save = (who: string, file: string, body: string, overwrite: boolean) =>
    as(who, `/api/userdata/workflows%2F${file}?overwrite=${overwrite}&full_info=true`, { body });
  const inComfy = async (file: string) => (await call(`${fake.url}/api/userdata/workflows%2F${file}`)).text;

  it('lets a creator save, re-save, rename and delete their own, which teammates see', async () => {
    expect((await save('alice', 'portrait.json', '{"v":1}', false)).status).toBe(200);
    expect((await save('alice', 'portrait.json', '{"v":2}', true)).status).toBe(200);
    expect(await inComfy('portrait.json')).toBe('{"v":2}');
    const listed = await as<string[]>('bob', '/api/userdata?dir=workflows');
    expect(listed.body).toContain('portrait.json');
    const moved = await as('alice', '/api/userdata/workflows%2Fportrait.json/move/workflows%2Fportrait%202.json', {
      method: 'POST',
    });
    expect(moved.status).toBe(200);
    expect((await save('alice', 'portrait 2.json', '{"v":3}', true)).status).toBe(200);
    expect((await as('alice', '/api/userdata/workflows%2Fportrait%202.json', { method: 'DELETE' })).status).toBe(204);
    expect((await as<string[]>('alice', '/api/userdata?dir=workflows')).body).not.toContain('portrait 2.json');
  });

  it("never lets a creator replace, move or delete a teammate's or the operator's workflow", async () => {
    expect((await save('alice', 'alices.json', '{"by":"alice"}', false)).status).toBe(200);
    expect((await save('olga', 'operators.json', '{"by":"olga"}', true)).status).toBe(200);
    for (const file of ['alices.json', 'operators.json']) {
      const replaced = await save('bob', file, '{"by":"bob"}', true);
      expect(replaced.status).toBe(409);
      expect(replaced.text).toBe('File already exists');
      const deleted = await as<ErrorAnswer>('bob', `/api/userdata/workflows%2F${file}`, { method: 'DELETE' });
      expect(deleted.status).toBe(403);
      expect(deleted.body.error.message).toMatch(/--multi-user/);
      const moved = await as('bob', `/api/userdata/workflows%2F${file}/move/workflows%2Fmine.json`, { method: 'POST' });
      expect(moved.status).toBe(403);
    }
    const onto = await as('bob', '/api/userdata/workflows%2Fbobs.json?overwrite=false', { body: '{}' });
    expect(onto.status).toBe(200);
    const over = await as('bob', '/api/userdata/workflows%2Fbobs.json/move/workflows%2Falices.json?overwrite=true', {
      method: 'POST',
    });
    expect(over.status).toBe(409);
    expect(await inComfy('alices.json')).toBe('{"by":"alice"}');
    expect(await inComfy('operators.json')).toBe('{"by":"olga"}');
    // The operator is not isolated and changes any of them.
    expect((await save('olga', 'alices.json', '{"by":"olga"}', true)).status).toBe(200);
  });

  it('remembers whose workflow is whose across a restart of the gate', async () => {
    expect((await save('cleo', 'kept.json', '{"v":1}', false)).status).toBe(200);
    // The record is queued before the answer and lands on disk just after it: wait for the disk, as a
    // gate started later would find it.
    const onDisk = async () => (await new TeammateSpaces(gate.dataDir).get(keys['cleo']!.id)).workflows;
    for (let i = 0; i < 100 && !(await onDisk()).some((name) => name.endsWith('kept.json')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const again = await startGate({
      config: gateConfigSchema.parse({
        host: '127.0.0.1',
        port: 0,
        logLevel: 'silent',
        upstream: fake.url,
        dataDir: gate.dataDir,
      }),
    });
    try {
      const resave = (who: string) =>
        call(`${again.url}/api/userdata/workflows%2Fkept.json?overwrite=true`, {
          headers: { 'x-api-key': keys[who]!.key },
          body: `{"by":"${who}"}`,
        });
      expect((await resave('cleo')).status).toBe(200);
      expect((await resave('bob')).status).toBe(409);
      expect(await inComfy('kept.json')).toBe('{"by":"cleo"}');
    } finally {
      await again.stop();
    }
  });
});

describe('with team isolation off', () => {
  it('leaves settings writes to roles that may manage, as before', async () => {
    const patch = (isolation: boolean) => as('admin', '/gate/api/settings', { method: 'PATCH', json: { isolation } });
    expect((await patch(false)).status).toBe(200);
    try {
      const refused = await as<ErrorAnswer>('alice', '/api/settings/Comfy.ColorPalette', { json: 'dark' });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('forbidden_scope');
    } finally {
      await patch(true);
    }
  });
});
