import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FIRST_KEY_BUTTONS, firstKeyOffer, resolveFirstRunUpstream } from '../../electron/firstRun/firstRun.js';
import {
  handlePromptSubmission,
  normalizeUpstreamInput,
  PROMPT_ACTION_URL,
  readPromptSubmission,
  upstreamPromptHtml,
} from '../../electron/firstRun/upstreamPrompt.js';
import { desktopPaths, prepareAppPaths } from '../../electron/lifecycle/appPaths.js';
import { DESKTOP_FILE, readDesktopFile, writeDesktopFile } from '../../electron/lifecycle/desktopFile.js';
import { autostartEntry, createLoginItem, HIDDEN_ARG } from '../../electron/lifecycle/loginItem.js';
import { describeStartError } from '../../electron/lifecycle/startError.js';
import { ConfigError } from '../../server/config/loadConfig.js';
import { app, electronApp, resetElectronMock } from './electronMock.js';

vi.mock('electron', async () => (await import('./electronMock.js')).electronModule);

let dir: string;
beforeEach(async () => {
  resetElectronMock();
  dir = await mkdtemp(join(tmpdir(), 'comfygate-first-run-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('finding ComfyUI on first run', () => {
  function deps(found: boolean, answer?: string) {
    return {
      configured: undefined as string | undefined,
      discover: vi.fn(() => Promise.resolve({ url: found ? 'http://127.0.0.1:8000' : 'http://127.0.0.1:8188', found })),
      ask: vi.fn(() => Promise.resolve(answer)),
      save: vi.fn((_url: string) => Promise.resolve()),
    };
  }

  it('a configured address wins without probing', async () => {
    const d = { ...deps(true), configured: 'http://10.0.0.5:8188' };
    await expect(resolveFirstRunUpstream(d)).resolves.toBe('http://10.0.0.5:8188');
    expect(d.discover).not.toHaveBeenCalled();
  });

  it('uses what discovery found (8188, then 8000) and asks nothing', async () => {
    const d = deps(true);
    await expect(resolveFirstRunUpstream(d)).resolves.toBe('http://127.0.0.1:8000');
    expect(d.ask).not.toHaveBeenCalled();
    expect(d.save).not.toHaveBeenCalled();
  });

  it('asks when nothing answers, and keeps the answer in settings', async () => {
    const d = deps(false, 'http://192.168.1.9:8188');
    await expect(resolveFirstRunUpstream(d)).resolves.toBe('http://192.168.1.9:8188');
    expect(d.save).toHaveBeenCalledWith('http://192.168.1.9:8188');
  });

  it('skipping leaves it to the gate', async () => {
    const d = deps(false, undefined);
    await expect(resolveFirstRunUpstream(d)).resolves.toBeUndefined();
    expect(d.save).not.toHaveBeenCalled();
  });
});

describe('the "Where is ComfyUI?" window', () => {
  it.each([
    ['127.0.0.1:8188', 'http://127.0.0.1:8188'],
    ['  localhost:8000/ ', 'http://localhost:8000'],
    ['https://gpu.lab.example:8443', 'https://gpu.lab.example:8443'],
  ])('reads %j as %s', (input, url) => {
    expect(normalizeUpstreamInput(input)).toEqual({ ok: true, url });
  });

  it.each(['', 'ftp://host:21', 'http://host:8188/some/path'])('refuses %j with a reason', (input) => {
    const result = normalizeUpstreamInput(input);
    expect(result.ok).toBe(false);
  });

  it('reads answers only from its own form address', () => {
    expect(readPromptSubmission(`${PROMPT_ACTION_URL}?url=127.0.0.1%3A8188&action=retry`)).toEqual({
      action: 'retry',
      url: '127.0.0.1:8188',
    });
    expect(readPromptSubmission(`${PROMPT_ACTION_URL}?url=x`)).toEqual({ action: 'use', url: 'x' });
    expect(readPromptSubmission('https://evil.example/first-run/upstream?url=x')).toBeNull();
  });

  const probeDeps = (answers: boolean, found = false) => ({
    probe: vi.fn(() => Promise.resolve(answers)),
    discover: vi.fn(() => Promise.resolve({ url: 'http://127.0.0.1:8188', found })),
  });

  it('"Use this address" finishes when ComfyUI answers there', async () => {
    await expect(handlePromptSubmission({ action: 'use', url: '127.0.0.1:8190' }, probeDeps(true))).resolves.toEqual({
      done: true,
      upstream: 'http://127.0.0.1:8190',
    });
  });

  it('a silent address is shown again with the error and a "Use it anyway"', async () => {
    const step = await handlePromptSubmission({ action: 'use', url: '127.0.0.1:8190' }, probeDeps(false));
    expect(step).toMatchObject({ done: false, view: { value: 'http://127.0.0.1:8190', offerForce: true } });
    expect(upstreamPromptHtml(step.done ? ({} as never) : step.view)).toContain('Use it anyway');
    await expect(handlePromptSubmission({ action: 'force', url: '127.0.0.1:8190' }, probeDeps(false))).resolves.toEqual(
      { done: true, upstream: 'http://127.0.0.1:8190' }
    );
  });

  it('"Look again" re-runs discovery; "Skip" finishes without an address', async () => {
    await expect(handlePromptSubmission({ action: 'retry', url: '' }, probeDeps(false, true))).resolves.toEqual({
      done: true,
      upstream: 'http://127.0.0.1:8188',
    });
    const again = await handlePromptSubmission({ action: 'retry', url: '' }, probeDeps(false));
    expect(again.done ? null : again.view.error).toMatch(/Still nothing/);
    await expect(handlePromptSubmission({ action: 'skip', url: 'x' }, probeDeps(true))).resolves.toEqual({
      done: true,
      upstream: undefined,
    });
  });

  it('is a script-free page that escapes what it shows', () => {
    const html = upstreamPromptHtml({ value: '"><script>alert(1)</script>', error: '<b>no</b>', offerForce: false });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#34;&#62;&#60;script&#62;');
    expect(html).toContain("default-src 'none'");
    expect(html).toContain(`form-action ${PROMPT_ACTION_URL}`);
    expect(html).not.toContain('Use it anyway');
  });
});

describe('first-run welcome', () => {
  it('offers the first teammate key and, when there is one, to copy the one-time admin key', () => {
    const offer = firstKeyOffer({
      upstreamUrl: 'http://127.0.0.1:8188',
      upstreamReachable: true,
      mode: 'required',
      hasAdminKey: true,
    });
    expect(offer.buttons?.[FIRST_KEY_BUTTONS.create]).toBe('Create a teammate key…');
    expect(offer.cancelId).toBe(FIRST_KEY_BUTTONS.later);
    expect(offer.message).toContain('guarding ComfyUI at http://127.0.0.1:8188');
    expect(offer.detail).toContain('every teammate needs a key');
    expect(offer.checkboxLabel).toMatch(/admin key/);
  });

  it('says it waits for ComfyUI when it is down, and offers no admin key it does not have', () => {
    const offer = firstKeyOffer({
      upstreamUrl: 'http://127.0.0.1:8188',
      upstreamReachable: false,
      mode: 'off',
      hasAdminKey: false,
    });
    expect(offer.message).toMatch(/as soon as it starts/);
    expect(offer).not.toHaveProperty('checkboxLabel');
  });
});

describe('desktop.json', () => {
  it('a missing or corrupt file means first run', async () => {
    await expect(readDesktopFile(dir)).resolves.toEqual({ version: 1, firstRunDone: false });
    await writeFile(join(dir, DESKTOP_FILE), '{not json');
    await expect(readDesktopFile(dir)).resolves.toMatchObject({ firstRunDone: false });
  });

  it('is written atomically, private to the user, and read back', async () => {
    await writeDesktopFile(dir, { version: 1, firstRunDone: true });
    await expect(readDesktopFile(dir)).resolves.toEqual({ version: 1, firstRunDone: true });
    expect((await stat(join(dir, DESKTOP_FILE))).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, `${DESKTOP_FILE}.tmp`))).toBe(false);
  });
});

describe('start at login', () => {
  it('is unavailable when run from source', () => {
    app.isPackaged = false;
    const item = createLoginItem({ app: electronApp, platform: 'darwin', executable: '/x', autostartDir: dir });
    expect(item.available).toBe(false);
    item.set(true);
    expect(app.setLoginItemSettings).not.toHaveBeenCalled();
  });

  it.each(['darwin', 'win32'] as const)('%s: app.setLoginItemSettings, started hidden', (platform) => {
    app.isPackaged = true;
    app.getLoginItemSettings.mockReturnValue({ openAtLogin: true } as ReturnType<typeof app.getLoginItemSettings>);
    const item = createLoginItem({ app: electronApp, platform, executable: '/x', autostartDir: dir });
    item.set(true);
    expect(app.setLoginItemSettings).toHaveBeenCalledWith({ openAtLogin: true, args: [HIDDEN_ARG] });
    expect(item.get()).toBe(true);
  });

  it('linux: an XDG autostart entry that starts the AppImage hidden', async () => {
    app.isPackaged = true;
    const autostartDir = join(dir, 'autostart');
    const item = createLoginItem({
      app: electronApp,
      platform: 'linux',
      executable: '/home/ann/Apps/ComfyGate 1.0.AppImage',
      autostartDir,
    });
    expect(item.get()).toBe(false);
    item.set(true);
    expect(item.get()).toBe(true);
    const entry = await readFile(join(autostartDir, 'comfygate.desktop'), 'utf8');
    expect(entry).toContain('Exec="/home/ann/Apps/ComfyGate 1.0.AppImage" --hidden');
    item.set(false);
    expect(item.get()).toBe(false);
    expect(app.setLoginItemSettings).not.toHaveBeenCalled();
  });

  it('quotes only what needs quoting', () => {
    expect(autostartEntry('/opt/ComfyGate/comfygate')).toContain('Exec=/opt/ComfyGate/comfygate --hidden');
    expect(autostartEntry('/a b/$x"y')).toContain('Exec="/a b/\\$x\\"y" --hidden');
  });
});

describe('start-up failures and paths', () => {
  it('says what to do when the port is taken', () => {
    const error = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    expect(describeStartError(error, { host: '127.0.0.1', port: 8189 })).toMatch(
      /^Port 8189 on 127\.0\.0\.1 is already in use\. Is ComfyGate \(or `comfygate serve`\) already running\?/
    );
    expect(describeStartError(new ConfigError('invalid port "x" (from settings.json)'))).toBe(
      'A setting is wrong: invalid port "x" (from settings.json)'
    );
    expect(describeStartError('weird')).toBe('weird');
  });

  it('shares the CLI’s data dir (or COMFYGATE_DATA_DIR), with Chromium’s files in a subfolder', () => {
    const dataDir = prepareAppPaths(electronApp, { COMFYGATE_DATA_DIR: dir });
    expect(dataDir).toBe(dir);
    expect(app.setPath).toHaveBeenCalledWith('userData', dir);
    expect(app.setPath).toHaveBeenCalledWith('sessionData', join(dir, 'Session'));
    expect(prepareAppPaths(electronApp, { XDG_CONFIG_HOME: '/home/ann/.config' })).toMatch(/comfygate|ComfyGate/);
  });

  it('finds the dashboard, preload and icons from the compiled main module', () => {
    expect(desktopPaths('file:///app/dist/electron/main.js')).toEqual({
      dashboardDir: '/app/dist/renderer',
      preload: '/app/dist/electron/preload.cjs',
      assetsDir: '/app/electron/assets',
      appIcon: '/app/electron/assets/icon.png',
    });
  });
});
