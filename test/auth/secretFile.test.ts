import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateSecret } from '../../server/auth/secretFile.js';
import { silentLogger } from '../../server/appLog/logger.js';
import { spawnCli, stopProcess, waitForLine } from '../helpers/cli.js';
import { startFakeComfy } from '../fixtures/fakeComfy/index.js';

const posix = process.platform !== 'win32';
const SECRET_MAIN = fileURLToPath(new URL('../fixtures/secretMain.ts', import.meta.url));

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-secret-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** A logger whose warnings the test can read. */
function recordingLogger(): { logger: ReturnType<typeof silentLogger>; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'warn', base: undefined }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

/** A process that loads the secret when told to, so two can race for real. */
function startSecretProcess(): { ready: Promise<void>; go: () => void; output: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', SECRET_MAIN, dataDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  let markReady = (): void => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  const output = new Promise<string>((resolve) => child.on('close', () => resolve(out)));
  return { ready, go: () => child.stdin.write('go\n'), output };
}

describe('loadOrCreateSecret', () => {
  it('creates 32 random bytes in a 0600 file and loads the same ones next time, leaving no temp file', async () => {
    const first = await loadOrCreateSecret(dataDir, silentLogger());
    expect(first).toHaveLength(32);
    expect(await loadOrCreateSecret(dataDir, silentLogger())).toEqual(first);
    expect((await readFile(join(dataDir, 'jwt-secret'), 'utf8')).trim()).toBe(first.toString('base64url'));
    if (posix) expect((await stat(join(dataDir, 'jwt-secret'))).mode & 0o777).toBe(0o600);
    expect(await readdir(dataDir)).toEqual(['jwt-secret']);
  });

  it.each([
    ['empty', '', /empty/],
    ['short', 'c2hvcnQ\n', /too short/],
    ['garbage', '%%% not a secret at all, just some words that are long enough %%%\n', /not base64url/],
  ])('replaces an %s secret with a new one and says so in a warning', async (_name, content, reason) => {
    await writeFile(join(dataDir, 'jwt-secret'), content, { mode: 0o600 });
    const { logger, lines } = recordingLogger();
    const secret = await loadOrCreateSecret(dataDir, logger);
    expect(secret).toHaveLength(32);
    expect((await readFile(join(dataDir, 'jwt-secret'), 'utf8')).trim()).toBe(secret.toString('base64url'));
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as { level: number; msg: string };
    expect(entry.level).toBe(40);
    expect(entry.msg).toMatch(reason);
    expect(entry.msg).toMatch(/jwt-secret.*replaced it with a new one.*signed with the old one have ended/);
  });

  it('gives concurrent callers one secret', async () => {
    const secrets = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateSecret(dataDir, silentLogger())));
    for (const secret of secrets) expect(secret).toEqual(secrets[0]);
  });

  it('gives two processes starting at once the same secret, also over an unusable one', async () => {
    for (const before of [undefined, '']) {
      if (before !== undefined) await writeFile(join(dataDir, 'jwt-secret'), before);
      const children = [0, 1].map(() => startSecretProcess());
      await Promise.all(children.map((child) => child.ready));
      for (const child of children) child.go();
      const hashes = (await Promise.all(children.map((child) => child.output))).map(
        (out) => /secret ([0-9a-f]{64})/.exec(out)?.[1]
      );
      expect(hashes[0]).toBeDefined();
      expect(hashes[1]).toBe(hashes[0]);
      await rm(join(dataDir, 'jwt-secret'));
    }
  });
});

describe('a gate started over an unusable jwt-secret', () => {
  it.each([
    ['empty', ''],
    ['short', 'c2hvcnQ\n'],
  ])(
    'with an unusable (%s) jwt-secret listens, logs the replacement, and signs sessions with the new one',
    async (_name, content) => {
      const fake = await startFakeComfy();
      try {
        await writeFile(join(dataDir, 'jwt-secret'), content, { mode: 0o600 });
        const child = spawnCli(['serve', '--upstream', fake.url, '--port', '0', '--data-dir', dataDir]);
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        try {
          const line = await waitForLine(child, /^ComfyGate listening on /);
          const url = line.replace('ComfyGate listening on ', '').trim();
          const adminKey = (await waitForLine(child, /^\s+cgk_/)).trim();
          const login = await fetch(`${url}/gate/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', origin: url },
            body: JSON.stringify({ key: adminKey }),
          });
          expect(login.status).toBeLessThan(400);
          const cookie = login.headers.get('set-cookie')?.split(';')[0];
          expect(cookie).toBeDefined();
          const whoami = await fetch(`${url}/gate/api/whoami`, { headers: { cookie: cookie! } });
          expect(whoami.status).toBe(200);
        } finally {
          await stopProcess(child);
        }
        expect(stderr).toMatch(/jwt-secret.*replaced it with a new one/);
        const secret = (await readFile(join(dataDir, 'jwt-secret'), 'utf8')).trim();
        expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
      } finally {
        await fake.close();
      }
    }
  );
});
