import { access, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'comfygate-auth-cli-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function readSettings(dataDir: string): Promise<unknown> {
  return JSON.parse(await readFile(join(dataDir, 'settings.json'), 'utf8'));
}

/** Each spawn costs about a second of tsx start-up, several on a loaded machine: room for that, not for a hang. */
describe('comfygate auth', { timeout: 60_000 }, () => {
  it('prints the default mode for a fresh data dir and refuses an unknown mode with exit 2', async () => {
    const freshDir = join(root, 'fresh');
    const badDir = join(root, 'bad');
    const [fresh, bad] = await Promise.all([
      runCli(['auth', '--data-dir', freshDir]),
      runCli(['auth', 'sometimes', '--data-dir', badDir]),
    ]);
    // A folder no gate has used is announced: a mistyped --data-dir must not pass silently.
    expect(fresh).toMatchObject({
      code: 0,
      stderr: `comfygate: created a new, empty data folder ${freshDir} (no gate has used it yet)\n`,
    });
    // No settings.json yet: the gate's default applies.
    expect(fresh.stdout).toMatch(/^Protection is required: /);

    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/'sometimes' is invalid.*off, optional, required/);
    await expect(access(join(badDir, 'settings.json'))).rejects.toThrow();
  });

  it('writes the mode to settings.json, keeping the other settings, and prints it back', async () => {
    const flagDir = join(root, 'flag');
    const envDir = join(root, 'env');
    await mkdir(flagDir, { recursive: true });
    await writeFile(join(flagDir, 'settings.json'), JSON.stringify({ port: 9000 }));
    const [set, fromEnv] = await Promise.all([
      runCli(['auth', 'optional', '--data-dir', flagDir]),
      runCli(['auth', 'required'], { COMFYGATE_DATA_DIR: envDir }),
    ]);

    expect(set).toEqual({
      code: 0,
      stdout: `Protection is now optional. No gate is running for ${flagDir}; the change applies when one starts.\n`,
      stderr: '',
    });
    expect(await readSettings(flagDir)).toEqual({ port: 9000, mode: 'optional' });
    if (process.platform !== 'win32') expect((await stat(join(flagDir, 'settings.json'))).mode & 0o777).toBe(0o600);

    expect(fromEnv).toEqual({
      code: 0,
      stdout: `Protection is now required. No gate is running for ${envDir}; the change applies when one starts.\n`,
      stderr: `comfygate: created a new, empty data folder ${envDir} (no gate has used it yet)\n`,
    });
    expect(await readSettings(envDir)).toEqual({ mode: 'required' });

    const shown = await runCli(['auth', '--data-dir', flagDir]);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toMatch(/^Protection is optional: /);
  });
});
