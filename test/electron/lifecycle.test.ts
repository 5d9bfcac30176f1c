import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startDesktopApp, type DesktopApp, type DesktopOptions } from '../../electron/desktopApp.js';
import { PROMPT_ACTION_URL } from '../../electron/firstRun/upstreamPrompt.js';
import { createShutdown, type Shutdown } from '../../electron/lifecycle/shutdown.js';
import { claimSingleInstance, startsHidden } from '../../electron/lifecycle/singleInstance.js';
import { startGate, type GateHandle, type StartGateOptions } from '../../server/gate.js';
import {
  app,
  AppQuit,
  clipboard,
  cookieJar,
  dialog,
  electronApp,
  fakeEvent,
  FakeBrowserWindow,
  FakeNotification,
  FakeTray,
  ipcHandlers,
  resetElectronMock,
} from './electronMock.js';
import { item } from './fixtures.js';

vi.mock('electron', async () => (await import('./electronMock.js')).electronModule);

let dataDir: string;
beforeEach(async () => {
  resetElectronMock();
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-desktop-'));
  app.setPath('userData', dataDir);
  // A real gate on a free loopback port, upstream a closed port, quiet.
  vi.stubEnv('COMFYGATE_PORT', '0');
  vi.stubEnv('COMFYGATE_HOST', '127.0.0.1');
  vi.stubEnv('COMFYGATE_UPSTREAM', 'http://127.0.0.1:9');
  vi.stubEnv('COMFYGATE_LOG_LEVEL', 'silent');
  vi.stubEnv('COMFYGATE_SHUTDOWN_GRACE_MS', '200');
  vi.stubEnv('COMFYGATE_API_KEY', '');
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Runs the shutdown as the app would on Quit: it ends where the mocked app.exit throws. */
async function quitApp(shutdown: Shutdown): Promise<AppQuit> {
  const error = await shutdown.quit().then(
    () => undefined,
    (e: unknown) => e
  );
  if (!(error instanceof AppQuit)) throw new Error(`expected the app to exit, got ${String(error)}`);
  return error;
}

describe('single instance', () => {
  it('a second process quits at once and registers nothing', () => {
    app.requestSingleInstanceLock.mockReturnValueOnce(false);
    const onSecond = vi.fn();
    expect(() => claimSingleInstance(electronApp, onSecond)).toThrow(AppQuit);
    expect(app.listenerCount('second-instance')).toBe(0);
  });

  it('the first process hears about the second launch', () => {
    const onSecond = vi.fn();
    expect(claimSingleInstance(electronApp, onSecond)).toBe(true);
    app.emit('second-instance', fakeEvent(), ['/opt/ComfyGate/comfygate', '--hidden'], '/');
    expect(onSecond).toHaveBeenCalledWith(['/opt/ComfyGate/comfygate', '--hidden']);
  });

  it('starts hidden when started at login', () => {
    expect(startsHidden(['comfygate', '--hidden'], false)).toBe(true);
    expect(startsHidden(['comfygate'], true)).toBe(true);
    expect(startsHidden(['comfygate'], false)).toBe(false);
  });

  it('main: losing the lock quits before anything starts', async () => {
    vi.stubEnv('COMFYGATE_DATA_DIR', dataDir);
    app.requestSingleInstanceLock.mockReturnValueOnce(false);
    vi.resetModules();
    await expect(import('../../electron/main.js')).rejects.toThrow(AppQuit);
    expect(app.setPath).toHaveBeenCalledWith('userData', dataDir);
    expect(app.whenReady).not.toHaveBeenCalled();
    expect(FakeTray.instances).toHaveLength(0);
  });

  it('main: winning the lock starts the app; a second launch shows it; Quit stops the gate, then exits', async () => {
    vi.stubEnv('COMFYGATE_DATA_DIR', dataDir);
    await writeFile(join(dataDir, 'desktop.json'), JSON.stringify({ version: 1, firstRunDone: true }));
    const signalListeners = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      vi.resetModules();
      await import('../../electron/main.js');
      const window = await vi.waitFor(() => {
        const shown = FakeBrowserWindow.instances.find((w) => w.visible);
        if (!shown) throw new Error('no window yet');
        return shown;
      });
      const gateUrl = cookieJar.set.mock.calls[0]?.[0].url ?? '';
      expect(await listening(gateUrl)).toBe(true);

      window.close();
      expect(window.visible).toBe(false);
      app.emit('second-instance', fakeEvent(), ['comfygate'], '/');
      await vi.waitFor(() => expect(window.visible).toBe(true));

      const beforeQuit = fakeEvent();
      app.emit('before-quit', beforeQuit);
      expect(beforeQuit.defaultPrevented).toBe(true);
      await vi.waitFor(() => expect(app.exit).toHaveBeenCalledWith(0));
      expect(await listening(gateUrl)).toBe(false);
      expect(FakeTray.instances[0]?.destroyed).toBe(true);
    } finally {
      consoleError.mockRestore();
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        for (const listener of process.listeners(signal)) {
          if (!signalListeners[signal].includes(listener)) process.off(signal, listener);
        }
      }
    }
  });
});

describe('ordered shutdown', () => {
  const log = vi.fn();

  it('holds before-quit, runs the steps last-added first, awaiting each, then exits 0', async () => {
    const order: string[] = [];
    const shutdown = createShutdown(electronApp, { stepTimeoutMs: 1000, log });
    shutdown.defer('gate', async () => {
      order.push('gate: stopping');
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push('gate: stopped');
    });
    shutdown.defer('tray', () => void order.push('tray'));
    app.exit.mockImplementationOnce((code) => {
      order.push(`exit ${code}`);
      throw new AppQuit('exit', code);
    });

    const event = fakeEvent();
    app.emit('before-quit', event);
    expect(event.defaultPrevented).toBe(true);
    expect(shutdown.isQuitting()).toBe(true);
    await expect(quitApp(shutdown)).resolves.toMatchObject({ exitCode: 0 });
    expect(order).toEqual(['tray', 'gate: stopping', 'gate: stopped', 'exit 0']);
  });

  it('runs once however often quit is asked for', async () => {
    const step = vi.fn();
    const shutdown = createShutdown(electronApp, { stepTimeoutMs: 1000, log });
    shutdown.defer('step', step);
    app.emit('before-quit', fakeEvent());
    app.emit('before-quit', fakeEvent());
    await quitApp(shutdown);
    expect(step).toHaveBeenCalledOnce();
    expect(app.exit).toHaveBeenCalledOnce();
  });

  it('a failing or hanging step is logged, the rest still run, and the exit code says so', async () => {
    const shutdown = createShutdown(electronApp, { stepTimeoutMs: 50, log });
    const last = vi.fn();
    shutdown.defer('last', last);
    shutdown.defer('hangs', () => new Promise<void>(() => undefined));
    shutdown.defer('fails', () => Promise.reject(new Error('disk full')));
    await expect(quitApp(shutdown)).resolves.toMatchObject({ exitCode: 1 });
    expect(last).toHaveBeenCalled();
    expect(log).toHaveBeenCalledWith('shutdown: fails failed', expect.objectContaining({ message: 'disk full' }));
    expect(log).toHaveBeenCalledWith(
      'shutdown: hangs failed',
      expect.objectContaining({ message: expect.stringMatching(/timed out/) as unknown })
    );
  });

  it('keeps running when every window is closed (a tray app)', () => {
    createShutdown(electronApp, { stepTimeoutMs: 1000, log });
    expect(app.listenerCount('window-all-closed')).toBe(1);
    expect(() => app.emit('window-all-closed')).not.toThrow();
  });
});

describe('desktop app (mocked electron, real gate)', () => {
  const paths = {
    dashboardDir: '/nonexistent/renderer',
    preload: '/app/dist/electron/preload.cjs',
    assetsDir: '/app/electron/assets',
    appIcon: '/app/electron/assets/icon.png',
  };
  let running: { shutdown: Shutdown; desktop?: DesktopApp } | undefined;

  afterEach(async () => {
    if (running && !running.shutdown.isQuitting()) await quitApp(running.shutdown);
    running = undefined;
  });

  async function start(options: Partial<DesktopOptions> = {}) {
    const shutdown = createShutdown(electronApp, { stepTimeoutMs: 5000, log: () => undefined });
    running = { shutdown };
    const desktop = await startDesktopApp({
      shutdown,
      paths,
      argv: ['electron', '.'],
      probe: () => Promise.resolve(false),
      discover: () => Promise.resolve({ url: 'http://127.0.0.1:8188', found: false }),
      interfaces: () => ({}),
      ...options,
    });
    running.desktop = desktop;
    return { shutdown, desktop };
  }

  const dashboard = () => FakeBrowserWindow.instances.find((w) => w.options.webPreferences?.preload === paths.preload);
  const trayMenu = () => FakeTray.instances[0]?.menu?.template ?? [];

  it('first run: welcomes, offers the first teammate key, and opens New key in a signed-in dashboard', async () => {
    dialog.showMessageBox.mockResolvedValueOnce({ response: 0, checkboxChecked: true });
    const { desktop } = await start();
    const offer = dialog.showMessageBox.mock.calls[0]?.[0];
    expect(offer?.buttons?.[0]).toBe('Create a teammate key…');
    expect(offer?.checkboxLabel).toMatch(/admin key/);
    expect(clipboard.writeText).toHaveBeenCalledWith(expect.stringMatching(/^cgk_/));

    const session = cookieJar.set.mock.calls[0]?.[0];
    expect(session).toMatchObject({ url: desktop.gate.url, httpOnly: true, sameSite: 'lax' });
    expect(dashboard()?.loadURL).toHaveBeenCalledWith(`${desktop.gate.url}/gate/#/keys?new=1`);
    expect(dashboard()?.visible).toBe(true);
    // The owner session really is an admin session on this gate.
    const whoami = await fetch(`${desktop.gate.url}/gate/api/whoami`, {
      headers: { cookie: `${session?.name}=${session?.value}` },
    });
    expect(whoami.status).toBe(200);
    expect(await whoami.json()).toMatchObject({ role: 'admin' });

    expect(JSON.parse(await readFile(join(dataDir, 'desktop.json'), 'utf8'))).toMatchObject({ firstRunDone: true });
  });

  it('later runs ask nothing; started at login (--hidden) they stay in the tray', async () => {
    await writeFile(join(dataDir, 'desktop.json'), JSON.stringify({ version: 1, firstRunDone: true }));
    await start({ argv: ['comfygate', '--hidden'] });
    expect(dialog.showMessageBox).not.toHaveBeenCalled();
    expect(FakeBrowserWindow.instances).toHaveLength(0);
    expect(FakeTray.instances).toHaveLength(1);
  });

  it('later runs started by hand show the dashboard; a second launch shows it again', async () => {
    await writeFile(join(dataDir, 'desktop.json'), JSON.stringify({ version: 1, firstRunDone: true }));
    const { desktop } = await start();
    const window = dashboard();
    expect(window?.visible).toBe(true);
    window?.close(); // hides to the tray
    expect(window?.visible).toBe(false);
    claimSingleInstance(electronApp, () => void desktop.showDashboard());
    app.emit('second-instance', fakeEvent(), ['comfygate'], '/');
    await vi.waitFor(() => expect(window?.visible).toBe(true));
    expect(FakeBrowserWindow.instances).toHaveLength(1);
  });

  it('first run without ComfyUI: asks for its address in a script-free window and keeps the answer', async () => {
    vi.stubEnv('COMFYGATE_UPSTREAM', '');
    const started = start({ probe: (url) => Promise.resolve(url === 'http://127.0.0.1:8190') });
    const prompt = await vi.waitFor(() => {
      const window = FakeBrowserWindow.instances.find((w) => w.options.webPreferences?.javascript === false);
      if (!window) throw new Error('no prompt yet');
      return window;
    });
    expect(prompt.options.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
    });
    expect(decodeURIComponent(prompt.loadURL.mock.calls[0]?.[0] ?? '')).toContain('Where is ComfyUI?');

    prompt.webContents.navigate(`${PROMPT_ACTION_URL}?url=127.0.0.1%3A8190&action=use`);
    const { desktop } = await started;
    expect(prompt.destroyed).toBe(true);
    expect(desktop.gate.state.upstream.url).toBe('http://127.0.0.1:8190');
    const settings = JSON.parse(await readFile(join(dataDir, 'settings.json'), 'utf8')) as Record<string, unknown>;
    expect(settings['upstream']).toBe('http://127.0.0.1:8190');
  });

  it('the tray shows the gate: icon, status, protection; a mode change applies at once and notifies', async () => {
    await writeFile(join(dataDir, 'desktop.json'), JSON.stringify({ version: 1, firstRunDone: true }));
    const { desktop } = await start({ argv: ['comfygate', '--hidden'] });
    const tray = FakeTray.instances[0];
    await vi.waitFor(() => expect(tray?.image).toEqual({ path: '/app/electron/assets/tray/unreachable.png' }));
    expect(item(trayMenu(), 'status').label).toBe('ComfyUI offline · 1 key · 0 requests today');
    expect(item(trayMenu(), 'start-at-login')).toMatchObject({ enabled: false }); // run from source

    (item(trayMenu(), 'mode-optional').click as () => void)();
    await vi.waitFor(() => expect(desktop.gate.state.mode).toBe('optional'));
    await vi.waitFor(() => expect(item(trayMenu(), 'mode-optional').checked).toBe(true));
    expect(FakeNotification.instances.map((n) => n.options.title)).toContain('Protection: Optional');

    (item(trayMenu(), 'pause').click as () => void)();
    expect(desktop.gate.state.paused).toBe(true);
    expect(tray?.tooltip).toContain('Sharing paused');
  });

  it.each([
    [true, 1],
    [false, 0],
  ] as const)('a key used for the first time notifies once (switch on: %s); clicking opens Keys', async (on, count) => {
    await writeFile(join(dataDir, 'desktop.json'), JSON.stringify({ version: 1, firstRunDone: true }));
    await writeFile(
      join(dataDir, 'settings.json'),
      JSON.stringify({ notifications: { comfyDown: true, firstUse: on, lockout: true, quota: true } })
    );
    const { desktop } = await start({ argv: ['comfygate', '--hidden'] });
    const owner = await desktop.gate.ownerSession();
    const created = await fetch(`${desktop.gate.url}/gate/api/keys`, {
      method: 'POST',
      headers: { cookie: `${owner.cookieName}=${owner.value}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ana laptop' }),
    });
    const { key } = (await created.json()) as { key: string };
    for (let i = 0; i < 2; i++) {
      await fetch(`${desktop.gate.url}/gate/api/whoami`, { headers: { 'x-api-key': key } });
    }
    const firstUse = FakeNotification.instances.filter(
      (n) => n.options.title === 'Key "Ana laptop" used for the first time'
    );
    expect(firstUse).toHaveLength(count);
    if (count === 0) return;
    firstUse[0]?.emit('click');
    await vi.waitFor(() => expect(dashboard()?.loadURL).toHaveBeenCalledWith(`${desktop.gate.url}/gate/#/keys`));
  });

  it('tells the operator when ComfyUI answers on the LAN address, around the gate', async () => {
    await writeFile(join(dataDir, 'desktop.json'), JSON.stringify({ version: 1, firstRunDone: true }));
    await start({
      argv: ['comfygate', '--hidden'],
      interfaces: () => ({
        en0: [{ address: '192.168.1.20', family: 'IPv4', internal: false, netmask: '', mac: '', cidr: null }],
      }),
      probe: (url) => Promise.resolve(url === 'http://192.168.1.20:9'),
    });
    await vi.waitFor(() =>
      expect(FakeNotification.instances.map((n) => n.options.title)).toContain('ComfyUI is reachable without the gate')
    );
    expect(item(trayMenu(), 'bypass-warning').label).toMatch(/reachable without the gate/);
  });

  it.each([
    [0, 'required'],
    [1, 'off'],
  ] as const)('on the network with protection off, asks before listening (answer %i → %s)', async (response, mode) => {
    await writeFile(join(dataDir, 'desktop.json'), JSON.stringify({ version: 1, firstRunDone: true }));
    await writeFile(join(dataDir, 'settings.json'), JSON.stringify({ mode: 'off' }));
    vi.stubEnv('COMFYGATE_HOST', '0.0.0.0');
    dialog.showMessageBox.mockResolvedValueOnce({ response, checkboxChecked: false });
    const { desktop } = await start({ argv: ['comfygate', '--hidden'] });
    expect(dialog.showMessageBox.mock.calls[0]?.[0].buttons).toEqual([
      'Start with protection Required',
      'Start unprotected',
    ]);
    expect(desktop.gate.state.mode).toBe(mode);
  });

  it('on loopback with protection off, starts without asking', async () => {
    await writeFile(join(dataDir, 'desktop.json'), JSON.stringify({ version: 1, firstRunDone: true }));
    await writeFile(join(dataDir, 'settings.json'), JSON.stringify({ mode: 'off' }));
    const { desktop } = await start({ argv: ['comfygate', '--hidden'] });
    expect(dialog.showMessageBox).not.toHaveBeenCalled();
    expect(desktop.gate.state.mode).toBe('off');
  });

  it('answers the dashboard over IPC, and only the dashboard', async () => {
    await writeFile(join(dataDir, 'desktop.json'), JSON.stringify({ version: 1, firstRunDone: true }));
    const { desktop } = await start();
    const getState = ipcHandlers.get('app:get-state');
    const from = (url: string) => ({ senderFrame: { url } }) as never;
    expect(await getState?.(from(`${desktop.gate.url}/gate/`))).toMatchObject({ mode: 'required', paused: false });
    expect(() => void getState?.(from(`${desktop.gate.url}/`))).toThrow(/only the ComfyGate dashboard/);
  });

  it('Quit: tray first, then the gate stops and flushes, then the app exits', async () => {
    await writeFile(join(dataDir, 'desktop.json'), JSON.stringify({ version: 1, firstRunDone: true }));
    const order: string[] = [];
    const instrumented = async (options: StartGateOptions): Promise<GateHandle> => {
      const gate = await startGate(options);
      return Object.assign(Object.create(gate) as GateHandle, {
        async stop() {
          order.push(`gate.stop (tray destroyed: ${String(FakeTray.instances[0]?.destroyed)})`);
          await gate.stop();
          order.push(`gate stopped (listening: ${String(await listening(gate.url))})`);
        },
      });
    };
    const { shutdown, desktop } = await start({ startGate: instrumented, argv: ['comfygate', '--hidden'] });
    expect(await listening(desktop.gate.url)).toBe(true);
    app.exit.mockImplementationOnce((code) => {
      order.push(`app.exit(${code})`);
      throw new AppQuit('exit', code);
    });

    // Quit calls app.quit(), which throws here where the app would quit; Electron then emits before-quit.
    expect(() => (item(trayMenu(), 'quit').click as () => void)()).toThrow(AppQuit);
    const beforeQuit = fakeEvent();
    app.emit('before-quit', beforeQuit);
    expect(beforeQuit.defaultPrevented).toBe(true);
    await quitApp(shutdown);

    expect(order).toEqual(['gate.stop (tray destroyed: true)', 'gate stopped (listening: false)', 'app.exit(0)']);
    expect(ipcHandlers.size).toBe(0);
    expect(existsSync(join(dataDir, 'keys.json'))).toBe(true);
  });
});
