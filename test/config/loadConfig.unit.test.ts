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

  it('reads several backends from settings.json, the environment or repeated flags', async () => {
    await writeFile(
      join(dataDir, 'settings.json'),
      JSON.stringify({
        upstreams: [{ url: 'http://10.0.0.1:8188/', label: 'GPU 0', weight: 2 }, 'http://10.0.0.2:8188'],
      })
    );
    const fromFile = await loadConfig({ flags: { dataDir }, env: {} });
    expect(fromFile.upstreams).toEqual([
      { url: 'http://10.0.0.1:8188', label: 'GPU 0', weight: 2 },
      { url: 'http://10.0.0.2:8188' },
    ]);
    const fromEnv = await loadConfig({
      flags: { dataDir },
      env: { COMFYGATE_UPSTREAMS: 'http://a:1, http://b:2' },
    });
    expect(fromEnv.upstreams).toEqual([{ url: 'http://a:1' }, { url: 'http://b:2' }]);
    // One --upstream on the command line outranks the list saved in settings.json.
    const single = await loadConfig({ flags: { dataDir, upstream: 'http://c:3' }, env: {} });
    expect(single.upstream).toBe('http://c:3');
    expect(single.upstreams).toBeUndefined();
  });

  it.each([
    [{ upstreams: ['http://a:1', 'http://a:1/'] }, /^invalid upstreams .*a URL is listed twice/],
    [{ upstreams: [{ url: 'http://a:1', weight: 0 }] }, /^invalid upstreams .*expected a positive number/],
    [{ upstreams: [] }, /^invalid upstreams .*expected at least one URL/],
  ])('explains a bad list of backends: %j', async (flags, message) => {
    await expect(loadConfig({ flags: { dataDir, ...flags }, env: {} })).rejects.toThrow(message);
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
