import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { runCli } from '../helpers/cli.js';
import { call } from '../helpers/http.js';
import { startTestGate, type TestGate } from '../helpers/testGate.js';

const CORRUPT = '{\n  "version": 1,\n  "keys": [ {"id": "key_half'; // what a hand edit cut short looks like

let fake: FakeComfy;
let gate: TestGate;

beforeAll(async () => {
  fake = await startFakeComfy();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  gate = await startTestGate({ upstream: fake.url, mode: 'required' });
});
afterEach(async () => {
  await gate.stop();
});

function admin(method: string, path: string, json?: unknown) {
  return call<{ error: { code: string; message: string } }>(`${gate.url}${path}`, {
    method,
    headers: { 'x-api-key': gate.adminKey },
    json,
  });
}

async function copiesOf(name: string): Promise<string[]> {
  return (await readdir(gate.dataDir)).filter((entry) => entry.startsWith(`${name}.corrupt-`));
}

describe('a data file corrupted while the gate runs', () => {
  it('keeps the last good keys, answers key changes with 503 naming keys.json and what to do, and keeps a copy', async () => {
    const file = join(gate.dataDir, 'keys.json');
    await writeFile(file, CORRUPT);

    const created = await admin('POST', '/gate/api/keys', { name: 'Dana' });
    expect(created.status).toBe(503);
    expect(created.body.error.code).toBe('data_file_corrupt');
    expect(created.body.error.message).toContain(file);
    expect(created.body.error.message).toMatch(/is not valid \(not JSON: .*\)\. ComfyGate will not overwrite it/);
    expect(created.body.error.message).toMatch(/Fix the file .* or move it away/);
    expect(created.body.error.message).not.toContain('\n');

    const copies = await copiesOf('keys.json');
    expect(copies).toHaveLength(1);
    expect(created.body.error.message).toContain(copies[0]);
    expect(await readFile(join(gate.dataDir, copies[0]!), 'utf8')).toBe(CORRUPT);

    // A second refusal keeps the same copy instead of piling up more; the file itself is untouched.
    expect((await admin('POST', '/gate/api/keys', { name: 'Eve' })).status).toBe(503);
    expect(await copiesOf('keys.json')).toEqual(copies);
    expect(await readFile(file, 'utf8')).toBe(CORRUPT);

    // The keys the gate had stay in force.
    expect((await admin('GET', '/gate/api/keys')).status).toBe(200);
  });

  it('answers a settings change over a corrupt settings.json the same way', async () => {
    const file = join(gate.dataDir, 'settings.json');
    await writeFile(file, '{"mode": "sometimes"}');
    const patched = await admin('PATCH', '/gate/api/settings', { retentionDays: 10 });
    expect(patched.status).toBe(503);
    expect(patched.body.error.code).toBe('data_file_corrupt');
    expect(patched.body.error.message).toContain(`${file} is not valid (at mode: `);
    expect(await readFile(file, 'utf8')).toBe('{"mode": "sometimes"}');
    expect(await copiesOf('settings.json')).toHaveLength(1);
  });
});

describe('the CLI over a corrupt keys.json', () => {
  it('serve exits 1 with one line naming the file', async () => {
    await writeFile(join(gate.dataDir, 'keys.json'), CORRUPT);
    const result = await runCli(['serve', '--upstream', fake.url, '--port', '0', '--data-dir', gate.dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^comfygate: .*keys\.json is not valid \(not JSON: .*\)\. ComfyGate will not overwrite it/),
    ]);
    expect(result.stdout).not.toMatch(/listening/);
  });

  it.each([[['create', '--name', 'frank']], [['list']], [['revoke', 'key_nope']]])(
    'keys %j exits 1 with one line naming the file and leaves it as it was',
    async (args) => {
      const file = join(gate.dataDir, 'keys.json');
      await writeFile(file, CORRUPT);
      const result = await runCli(['keys', ...args, '--data-dir', gate.dataDir]);
      expect(result.code).toBe(1);
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^comfygate: .*keys\.json is not valid \(not JSON: .*\)\. ComfyGate will not overwrite it/
      );
      expect(lines[0]).toContain(file);
      expect(await readFile(file, 'utf8')).toBe(CORRUPT);
      expect(await copiesOf('keys.json')).toHaveLength(1);
    }
  );
});
