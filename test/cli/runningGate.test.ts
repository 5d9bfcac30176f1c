import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, stopProcess } from '../helpers/cli.js';
import { listeningUrl, withCliFixture } from '../helpers/cliFixture.js';
import { startFakeComfy } from '../fixtures/fakeComfy/index.js';

const fixture = withCliFixture('running');

async function startServe(dataDir: string) {
  const child = spawnCli(['serve', '--upstream', fixture.fake.url, '--port', '0', '--data-dir', dataDir]);
  const url = await listeningUrl(child);
  return { child, url };
}

/** Each spawn costs a second of tsx start-up, several on a loaded machine: room for that, not for a hang. */
describe('the CLI talks to the gate that runs', { timeout: 120_000 }, () => {
  it('status shows the running gate from its runtime record (0600), and none after it stops', async () => {
    const dataDir = await fixture.freshDir();
    const { child, url } = await startServe(dataDir);
    try {
      expect((await stat(join(dataDir, 'gate.runtime.json'))).mode & 0o777).toBe(0o600);
      const json = await runCli(['status', '--json', '--data-dir', dataDir]);
      expect(json.code).toBe(0);
      const report = JSON.parse(json.stdout) as Record<string, unknown>;
      expect(report).toMatchObject({ running: true, url, pid: child.pid, dataDir });
      expect(report).not.toHaveProperty('controlToken');
      const human = await runCli(['status', '--data-dir', dataDir]);
      expect(human.stdout).toMatch(new RegExp(`^Gate +${url.replace(/[.]/g, '\\.')}$`, 'm'));
      expect(human.stdout).toMatch(/^PID +\d+$/m);
    } finally {
      await stopProcess(child);
    }
    const after = await runCli(['status', '--json', '--data-dir', dataDir]);
    expect(JSON.parse(after.stdout)).toEqual({ running: false, dataDir });
  });

  it('serve takes --upstream twice as two backends, and status shows each with its health', async () => {
    const dataDir = await fixture.freshDir();
    const second = await startFakeComfy();
    let closed = false;
    const child = spawnCli([
      'serve',
      '--upstream',
      fixture.fake.url,
      '--upstream',
      second.url,
      '--port',
      '0',
      '--data-dir',
      dataDir,
    ]);
    try {
      await listeningUrl(child);
      const json = await runCli(['status', '--json', '--data-dir', dataDir]);
      const report = JSON.parse(json.stdout) as { backends: Array<Record<string, unknown>> };
      expect(report.backends).toMatchObject([
        { url: fixture.fake.url, label: 'backend 1', reachable: true, running: 0, pending: 0 },
        { url: second.url, label: 'backend 2', reachable: true },
      ]);
      await second.close();
      closed = true;
      // The gate checks each backend every second; each CLI run takes about as long.
      let human = await runCli(['status', '--data-dir', dataDir]);
      for (let tries = 0; tries < 10 && !human.stdout.includes('not reachable'); tries++) {
        human = await runCli(['status', '--data-dir', dataDir]);
      }
      expect(human.stdout).toMatch(/^Backend backend 1 +http:\/\/127\.0\.0\.1:\d+ +reachable, 0 running, 0 waiting/m);
      expect(human.stdout).toContain(`${second.url}  not reachable`);
    } finally {
      await stopProcess(child);
      if (!closed) await second.close();
    }
  });

  it('a gate killed with SIGKILL is reported as not running (stale record), not as running', async () => {
    const dataDir = await fixture.freshDir();
    const { child } = await startServe(dataDir);
    await stopProcess(child, 'SIGKILL');
    const result = await runCli(['status', '--json', '--data-dir', dataDir]);
    expect(JSON.parse(result.stdout)).toMatchObject({ running: false, stale: true, pid: child.pid });
    const human = await runCli(['status', '--data-dir', dataDir]);
    expect(human.stdout).toMatch(/No gate is running .* ended without cleaning up/);
  });

  it('a key made by keys create is accepted on the very next request, and the CLI says which gate applied it', async () => {
    const dataDir = await fixture.freshDir();
    const { child, url } = await startServe(dataDir);
    try {
      for (let round = 0; round < 3; round++) {
        const created = await runCli(['keys', 'create', '--name', `teammate ${round}`, '--data-dir', dataDir]);
        expect(created.code).toBe(0);
        expect(created.stdout).toContain(`Applied by the gate running at ${url} (pid ${child.pid}).`);
        const key = /^(cgk_\w+)$/m.exec(created.stdout)?.[1];
        expect(key).toBeDefined();
        const res = await fetch(`${url}/api/queue`, { headers: { 'x-api-key': key ?? '' } });
        await res.arrayBuffer();
        expect(res.status).toBe(200);
      }
      const mode = await runCli(['auth', 'optional', '--data-dir', dataDir]);
      expect(mode.stdout).toContain(`Applied by the gate running at ${url}`);
      const anonymous = await fetch(`${url}/api/queue`);
      await anonymous.arrayBuffer();
      expect(anonymous.status).toBe(200);
    } finally {
      await stopProcess(child);
    }
  });

  it('update, revoke and delete by name are in force on the very next request, each saying which gate applied it', async () => {
    const dataDir = await fixture.freshDir();
    const { child, url } = await startServe(dataDir);
    const applied = `Applied by the gate running at ${url} (pid ${child.pid}).`;
    const queue = async (key: string): Promise<number> => {
      const res = await fetch(`${url}/api/queue`, { headers: { 'x-api-key': key } });
      await res.arrayBuffer();
      return res.status;
    };
    try {
      const created = await runCli(['keys', 'create', '--name', 'dana', '--json', '--data-dir', dataDir]);
      expect(created.stderr).toContain(applied);
      const { key } = JSON.parse(created.stdout) as { key: string };
      expect(await queue(key)).toBe(200);

      const updated = await runCli(['keys', 'update', 'dana', '--per-minute', '1', '--data-dir', dataDir]);
      expect(updated.stdout).toContain(applied);
      // The limit counts from the update on: one request passes, the next is over it.
      expect(await queue(key)).toBe(200);
      expect(await queue(key)).toBe(429);
      const lifted = await runCli(['keys', 'update', 'dana', '--per-minute', 'none', '--data-dir', dataDir]);
      expect(lifted.stdout).toContain(applied);
      expect(await queue(key)).toBe(200);

      const revoked = await runCli(['keys', 'revoke', 'dana', '--data-dir', dataDir]);
      expect(revoked.stdout).toContain(applied);
      expect(await queue(key)).toBe(401);
      const activated = await runCli(['keys', 'activate', 'dana', '--data-dir', dataDir]);
      expect(activated.stdout).toContain(applied);
      expect(await queue(key)).toBe(200);
      const signedOut = await runCli(['keys', 'sign-out', 'dana', '--data-dir', dataDir]);
      expect(signedOut.stdout).toContain(applied);
      const deleted = await runCli(['keys', 'delete', 'dana', '--yes', '--data-dir', dataDir]);
      expect(deleted.stdout).toContain(applied);
      expect(await queue(key)).toBe(401);
    } finally {
      await stopProcess(child);
    }
  });

  it('without a running gate the CLI says so, and the control route refuses callers without the token', async () => {
    const dataDir = await fixture.freshDir();
    const created = await runCli(['keys', 'create', '--name', 'early', '--data-dir', dataDir]);
    expect(created.stdout).toContain(`No gate is running for ${dataDir}; the change applies when one starts.`);

    const { child, url } = await startServe(dataDir);
    try {
      const record = JSON.parse(await readFile(join(dataDir, 'gate.runtime.json'), 'utf8')) as { controlToken: string };
      const wrong = await fetch(`${url}/gate/api/runtime/reload`, {
        method: 'POST',
        headers: { 'x-comfygate-control': 'x'.repeat(43) },
      });
      expect(wrong.status).toBe(403);
      const none = await fetch(`${url}/gate/api/runtime/reload`, { method: 'POST' });
      expect(none.status).toBe(403);
      const right = await fetch(`${url}/gate/api/runtime/reload`, {
        method: 'POST',
        headers: { 'x-comfygate-control': record.controlToken },
      });
      expect(right.status).toBe(204);
    } finally {
      await stopProcess(child);
    }
  });

  it('a mistyped --data-dir is announced, not silently used; status does not create it', async () => {
    const parent = await fixture.freshDir();
    const missing = join(parent, 'typo');
    const status = await runCli(['status', '--data-dir', missing]);
    expect(status.stdout).toContain(`No gate is running for ${missing}.`);
    await expect(stat(missing)).rejects.toThrow();
    const list = await runCli(['keys', 'list', '--data-dir', missing]);
    expect(list.stderr).toContain(`created a new, empty data folder ${missing}`);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });
});
