import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, stopProcess, waitForLine } from '../helpers/cli.js';
import { listeningUrl, withCliFixture } from '../helpers/cliFixture.js';

const fixture = withCliFixture('https');

describe('comfygate serve --https', { timeout: 120_000 }, () => {
  it('listens on https, prints the fingerprint, and the CLI applies changes to it over TLS', async () => {
    const dataDir = await fixture.freshDir();
    const child = spawnCli(['serve', '--https', '--upstream', fixture.fake.url, '--port', '0', '--data-dir', dataDir]);
    try {
      const url = await listeningUrl(child);
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
    const dataDir = await fixture.freshDir();
    const missing = await runCli([
      'serve',
      '--tls-cert',
      join(dataDir, 'nope.pem'),
      '--tls-key',
      join(dataDir, 'nope-key.pem'),
      '--upstream',
      fixture.fake.url,
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
