import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, stopProcess } from '../helpers/cli.js';
import { listeningUrl, withCliFixture } from '../helpers/cliFixture.js';

// 127.0.0.2 stands in for "my network": tests bind loopback addresses only.
const NETWORK_STAND_IN = { COMFYGATE_NETWORK_HOST: '127.0.0.2' };

const fixture = withCliFixture('share');

async function savedHost(dataDir: string): Promise<unknown> {
  return (JSON.parse(await readFile(join(dataDir, 'settings.json'), 'utf8')) as { host?: unknown }).host;
}

describe('comfygate share on|off', { timeout: 120_000 }, () => {
  it('moves the running gate live, keeps the choice for the next start, and status follows', async () => {
    const dataDir = await fixture.freshDir();
    const child = spawnCli(
      ['serve', '--upstream', fixture.fake.url, '--port', '0', '--auth', 'required', '--data-dir', dataDir],
      NETWORK_STAND_IN
    );
    try {
      const url = await listeningUrl(child);
      const port = new URL(url).port;

      const on = await runCli(['share', 'on', '--data-dir', dataDir], NETWORK_STAND_IN);
      expect(on.stderr).toBe('');
      expect(on.code).toBe(0);
      expect(on.stdout).toContain(`Applied by the gate (pid ${child.pid})`);
      expect(on.stdout).toContain(`http://127.0.0.2:${port}/`);
      const health = await fetch(`http://127.0.0.2:${port}/gate/healthz`);
      expect(health.status).toBe(200);
      await health.arrayBuffer();
      expect(await savedHost(dataDir)).toBe('127.0.0.2');
      const status = JSON.parse((await runCli(['status', '--json', '--data-dir', dataDir])).stdout) as {
        url: string;
      };
      expect(status.url).toBe(`http://127.0.0.2:${port}`);

      const off = await runCli(['share', 'off', '--data-dir', dataDir], NETWORK_STAND_IN);
      expect(off.code).toBe(0);
      expect(off.stdout).toContain('This computer only');
      expect(await savedHost(dataDir)).toBe('127.0.0.1');
      const back = await fetch(`http://127.0.0.1:${port}/gate/healthz`);
      expect(back.status).toBe(200);
      await back.arrayBuffer();
    } finally {
      await stopProcess(child);
    }
  });

  it('with no gate running it only saves the choice, and refuses the network with protection off', async () => {
    const dataDir = await fixture.freshDir();
    const on = await runCli(['share', 'on', '--data-dir', dataDir]);
    expect(on.code).toBe(0);
    expect(on.stdout).toMatch(/No gate is running .*the next start listens on 0\.0\.0\.0/);
    expect(await savedHost(dataDir)).toBe('0.0.0.0');

    expect((await runCli(['share', 'off', '--data-dir', dataDir])).code).toBe(0);
    expect((await runCli(['auth', 'off', '--data-dir', dataDir])).code).toBe(0);
    const refused = await runCli(['share', 'on', '--data-dir', dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refusing to share ComfyUI on 0\.0\.0\.0 with protection off/);
    expect(await savedHost(dataDir)).toBe('127.0.0.1');

    const usage = await runCli(['share', 'maybe', '--data-dir', dataDir]);
    expect(usage.code).toBe(2);
  });
});
