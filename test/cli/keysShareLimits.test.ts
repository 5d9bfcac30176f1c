// The GPU-share flags of `keys create` and `keys update` (server/cli/limitFlags.ts; DESIGN.md "Contracts").
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicKeyRecord } from '../../server/keys/keySchema.js';
import { runCli, type CliResult } from '../helpers/cli.js';

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-keys-share-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function keys(...args: string[]): Promise<CliResult> {
  return runCli(['keys', ...args, '--data-dir', dataDir]);
}

describe('GPU-share flags', () => {
  let id: string;

  it('keys create --max-steps 30 --weight 1.5 --gpu-seconds-per-day 600 --json prints them in the limits', async () => {
    const result = await keys(
      'create',
      '--name',
      'render box',
      '--max-steps',
      '30',
      '--weight',
      '1.5',
      '--gpu-seconds-per-day',
      '600',
      '--max-pixels',
      '1048576',
      '--json'
    );
    expect(result.code).toBe(0);
    const created = JSON.parse(result.stdout) as PublicKeyRecord & { key: string };
    expect(created.limits).toMatchObject({
      maxSteps: 30,
      weight: 1.5,
      gpuSecondsPerDay: 600,
      maxPixels: 1048576,
      maxBatch: null,
      maxFrames: null,
      maxNodes: null,
    });
    id = created.id;
    const shown = await keys('show', id);
    expect(shown.stdout).toMatch(/600 GPU s\/day, ≤1048576 px, ≤30 steps, weight 1\.5/);
  });

  it('keys update ID --max-steps none lifts the cap and keeps the rest', async () => {
    const result = await keys('update', id, '--max-steps', 'none', '--max-frames', '121', '--json');
    expect(result.code).toBe(0);
    const updated = JSON.parse(result.stdout) as PublicKeyRecord;
    expect(updated.limits).toMatchObject({ maxSteps: null, maxFrames: 121, weight: 1.5, gpuSecondsPerDay: 600 });
  });

  it.each([
    [['create', '--name', 'x', '--max-steps', '2.5'], /--max-steps.*'2\.5' is invalid.*positive whole number/],
    [['create', '--name', 'x', '--weight', '0'], /--weight.*'0' is invalid.*positive number such as 600 or 1\.5/],
    [['create', '--name', 'x', '--gpu-seconds-per-day', 'lots'], /--gpu-seconds-per-day.*'lots' is invalid/],
    [['create', '--name', 'x', '--max-pixels', '-5'], /--max-pixels.*'-5' is invalid/],
    [['update', 'render box', '--max-batch', 'zero'], /--max-batch.*'zero' is invalid.*or none for the role's default/],
    [['update', 'render box', '--weight', '5000'], /^comfygate: .*weight: expected at most 1000/],
  ])('exits 2 for %j with a one-line message and writes nothing', async (args, message) => {
    const before = await readFile(join(dataDir, 'keys.json'), 'utf8');
    const result = await keys(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const [line, ...rest] = result.stderr.trimEnd().split('\n');
    expect(line).toMatch(message);
    // Commander's usage errors add only the pointer to --help.
    expect(rest.filter((l) => l !== '(run with --help for usage)')).toEqual([]);
    expect(await readFile(join(dataDir, 'keys.json'), 'utf8')).toBe(before);
  });

  it('names every GPU-share flag in the help of create and update', async () => {
    for (const command of ['create', 'update']) {
      const help = await keys(command, '--help');
      for (const flag of [
        '--gpu-seconds-per-day',
        '--max-pixels',
        '--max-batch',
        '--max-steps',
        '--max-frames',
        '--max-nodes',
        '--weight',
      ]) {
        expect(help.stdout).toContain(`${flag} <n>`);
      }
    }
  });
});
