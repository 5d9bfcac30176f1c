import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { startFakeComfy, type FakeComfy, type FakeComfyOptions } from '../fixtures/fakeComfy/index.js';
import { waitForLine } from './cli.js';

export interface CliFixture {
  /** The fake ComfyUI started for this file. */
  readonly fake: FakeComfy;
  /** A new empty data dir, removed after the file's tests. */
  freshDir(): Promise<string>;
}

/**
 * For suites that spawn `comfygate` processes: one fake ComfyUI per file and throw-away data dirs,
 * started before the file's tests and removed after them.
 */
export function withCliFixture(prefix: string, comfy: FakeComfyOptions = {}): CliFixture {
  let fake: FakeComfy | undefined;
  const dirs: string[] = [];
  beforeAll(async () => {
    fake = await startFakeComfy(comfy);
  });
  afterAll(async () => {
    await fake?.close();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return {
    get fake() {
      if (!fake) throw new Error('the fake ComfyUI starts in beforeAll');
      return fake;
    },
    async freshDir() {
      const dir = await mkdtemp(join(tmpdir(), `comfygate-${prefix}-`));
      dirs.push(dir);
      return dir;
    },
  };
}

/** The URL on the `ComfyGate listening on …` line a spawned `serve` prints. */
export async function listeningUrl(child: ChildProcessWithoutNullStreams): Promise<string> {
  return (await waitForLine(child, /^ComfyGate listening on /)).replace('ComfyGate listening on ', '').trim();
}
