import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { runCli, spawnCli, stopProcess, waitForLine } from '../helpers/cli.js';

let fake: FakeComfy;
const dirs: string[] = [];

beforeAll(async () => {
  fake = await startFakeComfy();
});
afterAll(async () => {
  await fake.close();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'comfygate-https-'));
  dirs.push(dir);
  return dir;
}

describe('comfygate serve --https', { timeout: 120_000 }, () => {
  it('listens on https, prints the fingerprint, and the CLI applies changes to it over TLS', async () => {
    const dataDir = await freshDir();
    const child = spawnCli(['serve', '--https', '--upstream', fake.url, '--port', '0', '--data-dir', dataDir]);
    try {
      const url = (await waitForLine(child, /^ComfyGate listening on /)).replace('ComfyGate listening on ', '').trim();
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const https = await waitForLine(child, /^HTTPS: /);
      expect(https).toMatch(
        /self-signed certificate, valid to \d{4}-\d\d-\d\d, SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}/
      );
      const created = await runCli(['keys', 'create', '--name', 'over-tls', '--data-dir', dataDir]);
      expect(created.code).toBe(0);
      expect(created.stdout).toContain(`Applied by the gate running at ${url} (pid ${child.pid}).`);
    } finally {
      await stopProcess(child);
    }
  });

  it('refuses an unreadable --tls-cert, or one without its key, with a clear message', async () => {
    const dataDir = await freshDir();
    const missing = await runCli([
      'serve',
      '--tls-cert',
      join(dataDir, 'nope.pem'),
      '--tls-key',
      join(dataDir, 'nope-key.pem'),
      '--upstream',
      fake.url,
      '--port',
      '0',
      '--data-dir',
      dataDir,
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the TLS certificate .*nope\.pem: ENOENT/);
    const alone = await runCli([
      'serve',
      '--tls-cert',
      join(dataDir, 'nope.pem'),
      '--port',
      '0',
      '--data-dir',
      dataDir,
    ]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--tls-cert and --tls-key go together/);
  });
});
