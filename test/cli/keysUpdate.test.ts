import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeysFile, PublicKeyRecord } from '../../server/keys/keySchema.js';
import { runCli, type CliResult } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DAY_MS = 86_400_000;

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-keys-update-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function keys(...args: string[]): Promise<CliResult> {
  return runCli(['keys', ...args, '--data-dir', dataDir]);
}

async function keysFileText(): Promise<string> {
  return readFile(join(dataDir, 'keys.json'), 'utf8');
}

async function create(...args: string[]): Promise<PublicKeyRecord> {
  const result = await keys('create', ...args, '--json');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as PublicKeyRecord;
}

/**
 * Runs the CLI under a pseudo-terminal (util-linux `script`), answers its question once it is asked,
 * and resolves with everything the terminal showed and the CLI's exit code.
 */
function onTerminal(args: string[], answer: string): Promise<{ code: number | null; output: string }> {
  const command = ['node', '--import', 'tsx', 'server/cli/main.ts', ...args]
    .map((part) => `'${part.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, COMFYGATE_LOG_LEVEL: 'warn' },
    });
    let output = '';
    let answered = false;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!answered && output.includes('[y/N]')) {
        answered = true;
        child.stdin.write(answer + '\n');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Each spawn costs about a second of tsx start-up, several on a loaded machine: room for that, not for a hang. */
describe('comfygate keys update, names and delete', { timeout: 90_000 }, () => {
  it('update changes name, role, every limit, expiry and note, and a limit can be lifted with none', async () => {
    const guest = await create('--name', 'sam', '--preset', 'guest');
    expect(guest.scopes).toEqual(['read', 'generate']);

    const before = Date.now();
    // prettier-ignore
    const updated = await keys('update', guest.id, '--name', 'sam (lab)', '--role', 'creator', '--per-minute', '30',
      '--per-hour', 'none', '--prompts-per-day', '40', '--max-queued', '3', '--expires', '14d', '--note', 'thesis', '--json');
    expect(updated.code).toBe(0);
    const record = JSON.parse(updated.stdout) as PublicKeyRecord;
    expect(record).toMatchObject({
      id: guest.id,
      name: 'sam (lab)',
      role: 'creator',
      // A guest's own scopes give way to the new role's, as in the dashboard.
      scopes: null,
      note: 'thesis',
      limits: { perMinute: 30, perHour: null, promptsPerDay: 40, maxQueued: 3 },
    });
    const expiresInMs = Date.parse(record.expiresAt ?? '') - before;
    expect(expiresInMs).toBeGreaterThanOrEqual(14 * DAY_MS);
    expect(expiresInMs).toBeLessThan(14 * DAY_MS + 60_000);
    expect(updated.stderr).toContain('No gate is running for');

    const stored = (JSON.parse(await keysFileText()) as KeysFile).keys.find((key) => key.id === guest.id);
    expect(stored).toMatchObject({ name: 'sam (lab)', role: 'creator', note: 'thesis', limits: record.limits });

    const human = await keys('update', 'sam (lab)', '--no-expiry', '--per-minute', 'none', '--note', '');
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n')[0]).toMatch(
      /^Updated key "sam \(lab\)" \(key_\w+\): note, limits, expiry\. No gate/
    );
    expect(human.stdout).toMatch(/^expires +never$/m);
    expect(human.stdout).toMatch(/^limits +40 prompts\/day, 3 queued$/m);
    expect(human.stdout).not.toMatch(/^note/m);
  });

  it.each([
    [['update', 'sam (lab)'], /^comfygate: nothing to change: give at least one of --name/],
    [['update', 'sam (lab)', '--per-minute', '0'], /--per-minute.*'0' is invalid.*positive whole number.*or none/],
    [['update', 'sam (lab)', '--role', 'boss'], /--role.*'boss' is invalid/],
    [['update', 'sam (lab)', '--expires', '2001-01-01'], /--expires.*is invalid.*in the future/],
    [['update', 'sam (lab)', '--expires', '3d', '--no-expiry'], /--expires.*cannot be used with.*--no-expiry/],
    [['update', 'sam (lab)', '--name', ' '], /^comfygate: .*name: expected a name/],
  ])('update exits 2 for %j and writes nothing', async (args, message) => {
    const before = await keysFileText();
    const result = await keys(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toMatch(message);
    expect(await keysFileText()).toBe(before);
  });

  it('revoke, activate, show, rotate and sign-out find a key by its unique name and print the record with --json', async () => {
    const ines = await create('--name', 'Ines');
    const revoked = await keys('revoke', 'Ines', '--json');
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: ines.id, name: 'Ines', active: false });
    // Case does not matter when only one key could be meant.
    const shown = await keys('show', 'ines');
    expect(shown.stdout).toMatch(/^state +revoked$/m);
    const activated = await keys('activate', 'Ines', '--json');
    expect(JSON.parse(activated.stdout)).toMatchObject({ id: ines.id, active: true });
    const signedOut = await keys('sign-out', 'Ines', '--json');
    expect(signedOut.code).toBe(0);
    expect((JSON.parse(signedOut.stdout) as PublicKeyRecord).sessionsEndedAt).not.toBeNull();
    const rotated = await keys('rotate', 'Ines', '--json');
    const newKey = JSON.parse(rotated.stdout) as { id: string; key: string };
    expect(newKey.id).toBe(ines.id);
    expect(newKey.key).toMatch(/^cgk_/);
  });

  it('a name two keys share is refused with both ids, exit 1, and nothing changes', async () => {
    const [first, second] = [await create('--name', 'laptop'), await create('--name', 'laptop')];
    const before = await keysFileText();
    for (const command of ['revoke', 'delete', 'update']) {
      const extra = command === 'update' ? ['--note', 'x'] : command === 'delete' ? ['--yes'] : [];
      const result = await keys(command, 'laptop', ...extra);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `comfygate: 2 keys are named "laptop" (${first.id}, ${second.id}): give the id instead\n`
      );
    }
    expect(await keysFileText()).toBe(before);
    const byId = await keys('revoke', first.id);
    expect(byId.code).toBe(0);
  });

  it('delete without a terminal and without --yes refuses with exit 2 and keeps the key', async () => {
    const kept = await create('--name', 'keep me');
    const result = await keys('delete', 'keep me');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `comfygate: key "keep me" (${kept.id}) was not deleted: there is no terminal to confirm on, so add --yes\n`
    );
    expect(await keysFileText()).toContain(kept.id);

    const deleted = await keys('delete', 'keep me', '--yes', '--json');
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({ id: kept.id, name: 'keep me' });
    expect(await keysFileText()).not.toContain(kept.id);
  });

  it('delete on a terminal asks first: no keeps the key, yes deletes it', async () => {
    const asked = await create('--name', 'ask me');
    const declined = await onTerminal(['keys', 'delete', 'ask me', '--data-dir', dataDir], 'n');
    expect(declined.output).toContain(`Delete key "ask me" (${asked.id}) for good?`);
    expect(declined.output).toContain('not confirmed, nothing changed');
    expect(declined.code).toBe(1);
    expect(await keysFileText()).toContain(asked.id);

    const confirmed = await onTerminal(['keys', 'delete', asked.id, '--data-dir', dataDir], 'y');
    expect(confirmed.output).toContain(`Deleted key "ask me" (${asked.id}).`);
    expect(confirmed.code).toBe(0);
    expect(await keysFileText()).not.toContain(asked.id);
  });

  it('auth --json prints {mode}, when reading and when setting it', async () => {
    const read = await runCli(['auth', '--json', '--data-dir', dataDir]);
    expect(read.code).toBe(0);
    expect(JSON.parse(read.stdout)).toEqual({ mode: 'required' });
    const set = await runCli(['auth', 'optional', '--json', '--data-dir', dataDir]);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ mode: 'optional' });
    expect(set.stderr).toContain('No gate is running for');
  });
});
