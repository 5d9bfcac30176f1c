import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { runCli, spawnCli, stopProcess, waitForLine } from '../helpers/cli.js';
import { eventually } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';

let fake: FakeComfy;
let dataDir: string;

beforeAll(async () => {
  fake = await startFakeComfy();
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-cli-'));
});
afterAll(async () => {
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('comfygate serve', () => {
  it('prints the listening line, proxies, and shuts down cleanly on SIGTERM with sockets open', async () => {
    const child = spawnCli(['serve', '--upstream', fake.url, '--port', '0', '--data-dir', dataDir]);
    const line = await waitForLine(child, /^ComfyGate listening on /);
    const url = line.replace('ComfyGate listening on ', '').trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const health = await fetch(`${url}/gate/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', upstream: { url: fake.url, reachable: true } });

    // First start: the admin key is printed once, and protection is required.
    const adminKey = (await waitForLine(child, /^\s+cgk_/)).trim();
    expect((await fetch(`${url}/api/prompt`)).status).toBe(401);
    expect((await fetch(`${url}/api/prompt`, { headers: { 'x-api-key': adminKey } })).status).toBe(200);

    const socket = await RecordingSocket.open(`${url.replace('http', 'ws')}/ws?clientId=cli&token=${adminKey}`);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await eventually(() => socket.closed !== undefined, 'socket closed by shutdown');
    expect(socket.closed?.code).toBe(1001);
    await eventually(() => fake.openSockets() === 0, 'upstream socket closed');
  });

  it.each([
    [['serve', '--port', 'abc'], /^comfygate: invalid port "abc" \(from command line\)/],
    [['serve', '--upstream', 'nonsense'], /^comfygate: invalid upstream/],
    [['serve', '--no-such-flag'], /unknown option/],
    [['frobnicate'], /unknown command/],
    [['serve', '--host', '0.0.0.0', '--auth', 'off'], /refusing to share ComfyUI on 0\.0\.0\.0 with protection off/],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    const result = await runCli([...args, '--data-dir', dataDir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('exits 1 with one line when the port is taken', async () => {
    const first = spawnCli(['serve', '--upstream', fake.url, '--port', '0', '--data-dir', dataDir]);
    const line = await waitForLine(first, /^ComfyGate listening on /);
    const port = new URL(line.replace('ComfyGate listening on ', '').trim()).port;
    try {
      const second = await runCli(['serve', '--upstream', fake.url, '--port', port, '--data-dir', dataDir]);
      expect(second.code).toBe(1);
      expect(second.stderr.trim()).toBe(
        `comfygate: port ${port} on 127.0.0.1 is already in use; pick another with --port`
      );
    } finally {
      await stopProcess(first);
    }
  });

  it('creates and prints the first admin key only once it listens, so a first start on a busy port loses nothing', async () => {
    const freshDir = await mkdtemp(join(tmpdir(), 'comfygate-cli-first-'));
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const refused = await runCli(['serve', '--upstream', fake.url, '--port', String(port), '--data-dir', freshDir]);
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim()).toBe(
        `comfygate: port ${port} on 127.0.0.1 is already in use; pick another with --port`
      );
      expect(refused.stdout).not.toMatch(/cgk_/);

      const child = spawnCli(['serve', '--upstream', fake.url, '--port', '0', '--data-dir', freshDir]);
      try {
        const url = (await waitForLine(child, /^ComfyGate listening on /))
          .replace('ComfyGate listening on ', '')
          .trim();
        const adminKey = (await waitForLine(child, /^\s+cgk_/)).trim();
        const keys = await fetch(`${url}/gate/api/keys`, { headers: { 'x-api-key': adminKey } });
        expect(keys.status).toBe(200);
        expect(((await keys.json()) as { role: string }[]).map((k) => k.role)).toEqual(['admin']);
      } finally {
        await stopProcess(child);
      }
    } finally {
      busy.close();
      await rm(freshDir, { recursive: true, force: true });
    }
  });
});
