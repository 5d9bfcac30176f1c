import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultDataDir } from '../../server/config/dataDir.js';
import { ConfigError, loadConfig } from '../../server/config/loadConfig.js';

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-config-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('uses the defaults from DESIGN.md when nothing is set', async () => {
    const config = await loadConfig({ flags: { dataDir }, env: {} });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8189, dataDir });
    expect(config.upstream).toBeUndefined();
  });

  it('layers defaults < settings.json < COMFYGATE_* < flags, key by key', async () => {
    await writeFile(
      join(dataDir, 'settings.json'),
      JSON.stringify({ port: 9001, host: '0.0.0.0', upstream: 'http://10.0.0.1:8188' })
    );
    const env = { COMFYGATE_PORT: '9002', COMFYGATE_UPSTREAM_TIMEOUT_MS: '1500', COMFYGATE_DATA_DIR: dataDir };
    const config = await loadConfig({ flags: { port: '9003' }, env });
    expect(config.port).toBe(9003);
    expect(config.host).toBe('0.0.0.0');
    expect(config.upstream).toBe('http://10.0.0.1:8188');
    expect(config.upstreamTimeoutMs).toBe(1500);
    expect(config.dataDir).toBe(dataDir);
  });

  it.each([
    [{ port: 'abc' }, {}, /^invalid port "abc" \(from command line\)/],
    [{}, { COMFYGATE_PORT: '70000' }, /^invalid port "70000" \(from COMFYGATE_PORT\)/],
    [{ upstream: 'ftp://x' }, {}, /^invalid upstream "ftp:\/\/x" \(from command line\): expected an http\(s\) URL/],
    [{ upstream: 'http://127.0.0.1:8188/comfy' }, {}, /^invalid upstream/],
  ])('explains a bad value in one line: %j %j', async (flags, env, message) => {
    const error = await loadConfig({ flags: { dataDir, ...flags }, env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('names a corrupt settings.json instead of ignoring it', async () => {
    await writeFile(join(dataDir, 'settings.json'), '{ nope');
    await expect(loadConfig({ flags: { dataDir }, env: {} })).rejects.toThrow(/settings\.json is not valid JSON/);
  });

  it('puts data in the per-user config dir of each platform', () => {
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/cfg' }, 'linux')).toBe('/cfg/comfygate');
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'win32')).toMatch(/ComfyGate$/);
    expect(defaultDataDir({}, 'darwin')).toMatch(/Library\/Application Support\/ComfyGate$/);
  });
});
