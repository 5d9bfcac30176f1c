import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasValidKeyFormat, hashKey } from '../../server/keys/keyFormat.js';
import type { KeyRecord, KeysFile, PublicKeyRecord } from '../../server/keys/keySchema.js';
import { runCli, type CliResult } from '../helpers/cli.js';

type CreatedKey = PublicKeyRecord & { key: string };

const KEY_PATTERN = /^cgk_[0-9A-Za-z]{49}$/;
const DAY_MS = 86_400_000;

let dataDir: string;
/** Filled by the first test; the later ones act on these keys, as an operator would in one session. */
let alice: CreatedKey;
let bob: { id: string; key: string };

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-keys-cli-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function keys(...args: string[]): Promise<CliResult> {
  return runCli(['keys', ...args, '--data-dir', dataDir]);
}

async function readKeysFile(): Promise<{ text: string; data: KeysFile }> {
  const text = await readFile(join(dataDir, 'keys.json'), 'utf8');
  return { text, data: JSON.parse(text) as KeysFile };
}

function stored(data: KeysFile, id: string): KeyRecord | undefined {
  return data.keys.find((record) => record.id === id);
}

function expectOk(result: CliResult): void {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

/** Each spawn costs about a second of tsx start-up, several on a loaded machine: room for that, not for a hang. */
describe('comfygate keys', { timeout: 60_000 }, () => {
  it('creates keys, prints the secret once, and stores only its hash', async () => {
    const before = Date.now();
    const [json, human] = await Promise.all([
      // prettier-ignore
      keys('create', '--name', 'alice', '--role', 'operator', '--per-minute', '60', '--per-hour', '1000',
        '--prompts-per-day', '50', '--max-queued', '2', '--expires', '30d', '--note', 'for the lab', '--json'),
      // --data-dir before the subcommand works as well as after it.
      runCli(['keys', '--data-dir', dataDir, 'create', '--name', 'bob']),
    ]);

    expect(json.code).toBe(0);
    // stdout is the JSON alone; which gate applied the change is said on stderr.
    expect(json.stderr).toBe(`No gate is running for ${dataDir}; the change applies when one starts.\n`);
    alice = JSON.parse(json.stdout) as CreatedKey;
    expect(alice).toMatchObject({
      name: 'alice',
      role: 'operator',
      note: 'for the lab',
      active: true,
      limits: { perMinute: 60, perHour: 1000, promptsPerDay: 50, maxQueued: 2 },
    });
    expect(alice.id).toMatch(/^key_/);
    expect(alice.key).toMatch(KEY_PATTERN);
    expect(hasValidKeyFormat(alice.key)).toBe(true);
    expect(alice.hint).toBe(`${alice.key.slice(0, 8)}…${alice.key.slice(-4)}`);
    expect(alice).not.toHaveProperty('hash');
    const expiresInMs = Date.parse(alice.expiresAt ?? '') - before;
    expect(expiresInMs).toBeGreaterThanOrEqual(30 * DAY_MS);
    expect(expiresInMs).toBeLessThan(30 * DAY_MS + 60_000);

    expectOk(human);
    const key = human.stdout.split('\n').find((line) => KEY_PATTERN.test(line));
    expect(key).toBeDefined();
    expect(human.stdout).toMatch(/shown only once/);
    expect(human.stdout).toContain(`curl -H "X-API-Key: ${key}" http://127.0.0.1:8189/prompt`);
    expect(human.stdout).toMatch(
      /^Created key "bob" \(key_\w+\), role creator\. No gate is running for .+; the change applies when one starts\.$/m
    );

    const { text, data } = await readKeysFile();
    expect(data.keys).toHaveLength(2);
    const bobRecord = data.keys.find((record) => record.name === 'bob');
    bob = { id: bobRecord?.id ?? '', key: key ?? '' };
    expect(text).not.toContain(alice.key);
    expect(text).not.toContain(bob.key);
    expect(stored(data, alice.id)?.hash).toBe(hashKey(alice.key));
    expect(bobRecord?.hash).toBe(hashKey(bob.key));
    if (process.platform !== 'win32') expect((await stat(join(dataDir, 'keys.json'))).mode & 0o777).toBe(0o600);
  });

  it('lists and shows keys without any secret or hash', async () => {
    const [listJson, fromEnv, table, showJson, showHuman] = await Promise.all([
      keys('list', '--json'),
      runCli(['keys', 'list', '--json'], { COMFYGATE_DATA_DIR: dataDir }),
      keys('list'),
      keys('show', alice.id, '--json'),
      keys('show', bob.id),
    ]);
    for (const result of [listJson, fromEnv, table, showJson, showHuman]) {
      expectOk(result);
      expect(result.stdout).not.toContain(alice.key);
      expect(result.stdout).not.toContain(bob.key);
      expect(result.stdout).not.toContain(hashKey(alice.key));
    }

    const list = JSON.parse(listJson.stdout) as Record<string, unknown>[];
    expect(list).toHaveLength(2);
    for (const record of list) {
      for (const field of ['id', 'name', 'role', 'hint', 'active', 'limits', 'expiresAt']) {
        expect(record).toHaveProperty(field);
      }
      expect(record).not.toHaveProperty('key');
      expect(record).not.toHaveProperty('hash');
    }
    expect(JSON.parse(fromEnv.stdout)).toEqual(list);
    const aliceRecord = Object.fromEntries(Object.entries(alice).filter(([field]) => field !== 'key'));
    expect(JSON.parse(showJson.stdout)).toEqual(aliceRecord);
    expect(list).toContainEqual(aliceRecord);

    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['ID', 'NAME', 'ROLE', 'STATE', 'HINT', 'LAST USED', 'EXPIRES']);
    const aliceRow = rows.find((row) => row.startsWith(alice.id))?.split(/\s{2,}/);
    expect(aliceRow?.slice(0, 5)).toEqual([alice.id, 'alice', 'operator', 'active', alice.hint]);
    expect(aliceRow?.[5]).toBe('never');
    // Columns line up: every row has its name where the header has NAME.
    for (const row of rows) expect(row.charAt(header?.indexOf('NAME') ?? -1)).not.toBe(' ');

    expect(showHuman.stdout).toMatch(new RegExp(`^id\\s+${bob.id}$`, 'm'));
    expect(showHuman.stdout).toMatch(/^name\s+bob$/m);
    expect(showHuman.stdout).toMatch(/^state\s+active$/m);
  });

  it('revokes, rotates, activates and deletes', async () => {
    const [revoked, rotated] = await Promise.all([keys('revoke', alice.id), keys('rotate', bob.id, '--json')]);
    expectOk(revoked);
    expect(revoked.stdout.trim().split('\n')).toEqual([expect.stringContaining(`Revoked key "alice" (${alice.id})`)]);
    expect(rotated.code).toBe(0);
    const newBob = JSON.parse(rotated.stdout) as CreatedKey;
    expect(newBob.id).toBe(bob.id);
    expect(newBob.key).toMatch(KEY_PATTERN);
    expect(newBob.key).not.toBe(bob.key);
    expect(newBob.rotatedAt).not.toBeNull();

    let { data } = await readKeysFile();
    expect(stored(data, alice.id)?.active).toBe(false);
    expect(stored(data, bob.id)?.hash).toBe(hashKey(newBob.key));

    const table = await keys('list');
    expectOk(table);
    expect(table.stdout.split('\n').find((row) => row.startsWith(alice.id))).toMatch(/\srevoked\s/);

    const [activated, deleted] = await Promise.all([keys('activate', alice.id), keys('delete', bob.id, '--yes')]);
    expectOk(activated);
    expect(activated.stdout.trim().split('\n')).toHaveLength(1);
    expect(activated.stdout).toContain(`Activated key "alice" (${alice.id})`);
    expectOk(deleted);
    expect(deleted.stdout.trim()).toBe(
      `Deleted key "bob" (${bob.id}). No gate is running for ${dataDir}; the change applies when one starts.`
    );

    ({ data } = await readKeysFile());
    expect(data.keys.map((record) => record.id)).toEqual([alice.id]);
    expect(stored(data, alice.id)?.active).toBe(true);
  });

  it('exits 1 with one line for an unknown id', async () => {
    const results = await Promise.all([
      keys('show', 'key_nope'),
      keys('revoke', 'key_nope'),
      keys('delete', 'key_nope', '--yes'),
    ]);
    for (const result of results) {
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe('comfygate: no key with id or name "key_nope" (comfygate keys list shows them)\n');
    }
  });

  it.each([
    [['create', '--name', 'x', '--per-minute', '0'], /--per-minute.*'0' is invalid.*positive whole number/],
    [['create', '--name', 'x', '--per-hour', 'abc'], /--per-hour.*'abc' is invalid.*positive whole number/],
    [['create', '--name', 'x', '--role', 'boss'], /--role.*'boss' is invalid.*viewer, creator, operator, admin/],
    [['create', '--role', 'viewer'], /required option '--name <name>' not specified/],
    [['create', '--name', 'x', '--expires', 'soon'], /--expires.*'soon' is invalid.*30d/],
    [['create', '--name', 'x', '--expires', '2001-01-01'], /--expires.*'2001-01-01' is invalid.*in the future/],
  ])('exits 2 for %j and writes nothing', async (args, message) => {
    const before = await readKeysFile();
    const result = await keys(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toMatch(message);
    expect((await readKeysFile()).text).toBe(before.text);
  });
});
