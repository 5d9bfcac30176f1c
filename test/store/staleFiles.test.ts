import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../server/appLog/logger.js';
import { tempPathFor } from '../../server/store/atomicWrite.js';
import { acquireLock, LOCK_STALE_MS } from '../../server/store/fileLock.js';
import { removeStaleFiles } from '../../server/store/staleFiles.js';
import { startFakeComfy } from '../fixtures/fakeComfy/index.js';
import { spawnCli, stopProcess, waitForLine } from '../helpers/cli.js';

const posix = process.platform !== 'win32';
const WRITER_MAIN = fileURLToPath(new URL('../fixtures/interruptedWriterMain.ts', import.meta.url));

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-stale-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** The pid of a process that has exited: no live process has it (until the system hands it out again). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

/** Moves a file's mtime into the past: what waiting that long without anyone touching it would do. */
async function age(path: string, ms: number): Promise<void> {
  const then = new Date(Date.now() - ms);
  await utimes(path, then, then);
}

/** Starts the interrupted writer on `file`; resolves once its lock and temp file exist. */
async function interruptedWriter(file: string): Promise<{ child: ChildProcessWithoutNullStreams; temp: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER_MAIN, file]);
  const temp = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^writing (.+)\n/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.on('exit', () => reject(new Error(`the writer exited early: ${out}`)));
  });
  return { child, temp };
}

describe('removeStaleFiles', () => {
  it('removes temp files of dead writers and old ones, and keeps those a live process may still be writing', async () => {
    const dead = `keys.json.tmp-${await deadPid()}-0a1b2c3d4e5f`;
    const old = `settings.json.tmp-${process.ppid}-00ff00ff00ff`;
    const live = `usage.json.tmp-${process.ppid}-abcdefabcdef`;
    const ours = basename(tempPathFor(join(dataDir, 'keys.json')));
    for (const name of [dead, old, live, ours, 'keys.json', 'notes.tmp']) await writeFile(join(dataDir, name), '{');
    await age(join(dataDir, old), 2 * 60 * 60_000);

    await removeStaleFiles(dataDir, silentLogger());

    expect((await readdir(dataDir)).sort()).toEqual([live, ours, 'keys.json', 'notes.tmp'].sort());
  });

  it('removes lock folders nobody refreshes and never one a live process holds, which is 0700', async () => {
    const held = await acquireLock(join(dataDir, 'keys.json'));
    try {
      if (posix) expect((await stat(join(dataDir, 'keys.json.lock'))).mode & 0o777).toBe(0o700);
      await mkdir(join(dataDir, 'settings.json.lock'));
      await age(join(dataDir, 'settings.json.lock'), 2 * LOCK_STALE_MS);
      await mkdir(join(dataDir, 'usage.json.lock'));

      await removeStaleFiles(dataDir, silentLogger());

      // usage.json.lock is fresh: its maker may be alive and about to refresh it.
      expect((await readdir(dataDir)).sort()).toEqual(['keys.json.lock', 'usage.json.lock']);
    } finally {
      await held.release();
    }
  });

  it('leaves what is not its own to remove, such as a .lock folder with files in it, and goes on', async () => {
    await mkdir(join(dataDir, 'photos.lock'));
    await writeFile(join(dataDir, 'photos.lock', 'cat.jpg'), 'meow');
    await age(join(dataDir, 'photos.lock'), 2 * LOCK_STALE_MS);
    const dead = `keys.json.tmp-${await deadPid()}-0a1b2c3d4e5f`;
    await writeFile(join(dataDir, dead), '{');

    await removeStaleFiles(dataDir, silentLogger());

    expect(await readdir(dataDir)).toEqual(['photos.lock']);
    expect(await readdir(join(dataDir, 'photos.lock'))).toEqual(['cat.jpg']);
  });

  it('does nothing for a data dir that does not exist yet', async () => {
    await expect(removeStaleFiles(join(dataDir, 'missing'), silentLogger())).resolves.toBeUndefined();
  });
});

describe('a gate started after a writer was killed with SIGKILL', () => {
  it('removes the writer’s temp file and lock at start and says so', async () => {
    const { child: writer, temp } = await interruptedWriter(join(dataDir, 'settings.json'));
    const lockDir = join(dataDir, 'settings.json.lock');
    await stopProcess(writer, 'SIGKILL');
    // Nobody refreshes a dead writer's lock; ageing it stands in for waiting out proper-lockfile's stale window.
    await age(lockDir, 2 * LOCK_STALE_MS);
    expect((await readdir(dataDir)).sort()).toEqual([basename(temp), 'settings.json.lock'].sort());

    const fake = await startFakeComfy();
    const gate = spawnCli(['serve', '--upstream', fake.url, '--port', '0', '--data-dir', dataDir], {
      COMFYGATE_LOG_LEVEL: 'info',
    });
    let stderr = '';
    gate.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await waitForLine(gate, /^ComfyGate listening on /);
      const left = await readdir(dataDir);
      expect(left).not.toContain(basename(temp));
      expect(left).not.toContain('settings.json.lock');
    } finally {
      await stopProcess(gate);
      await fake.close();
    }
    expect(stderr).toMatch(/removed 2 leftover\(s\) of an interrupted write/);
  });
});
