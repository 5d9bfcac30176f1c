import { beforeEach, describe, expect, it, vi } from 'vitest';
import { classifyNavigation, dashboardUrl, isDashboardUrl } from '../../electron/window/navigation.js';
import { comfyWindowOptions, dashboardWindowOptions, GATE_PARTITION } from '../../electron/window/windowOptions.js';
import { createWindows, signInPartition, type WindowDeps } from '../../electron/window/windows.js';
import { cookieJar, dialog, fakeEvent, FakeBrowserWindow, resetElectronMock, session, shell } from './electronMock.js';

vi.mock('electron', async () => (await import('./electronMock.js')).electronModule);

beforeEach(resetElectronMock);

const GATE = 'http://127.0.0.1:8189';
const OWNER = { cookieName: 'comfygate_session', value: 'eyJ.owner.jwt', maxAgeSeconds: 604_800 };

function setup(overrides: Partial<WindowDeps> = {}) {
  let quitting = false;
  const deps: WindowDeps = {
    gateUrl: GATE,
    ownerSession: vi.fn(() => Promise.resolve(OWNER)),
    preload: '/app/dist/electron/preload.cjs',
    icon: '/app/electron/assets/icon.png',
    isQuitting: () => quitting,
    platform: 'linux',
    ...overrides,
  };
  return { deps, windows: createWindows(deps), quit: () => (quitting = true) };
}

const dashboards = () => FakeBrowserWindow.instances.filter((w) => w.options.webPreferences?.preload !== undefined);
const comfyWindows = () => FakeBrowserWindow.instances.filter((w) => w.options.webPreferences?.preload === undefined);

describe('window options', () => {
  it.each([
    ['dashboard', dashboardWindowOptions('/p.cjs')],
    ['ComfyUI', comfyWindowOptions()],
  ])('%s window: isolated, sandboxed, no Node, in the gate partition, hidden until shown', (_name, options) => {
    expect(options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      partition: 'persist:comfygate',
    });
    expect(options.show).toBe(false);
  });

  it('only the dashboard gets the preload (ComfyUI runs custom nodes’ scripts)', () => {
    expect(dashboardWindowOptions('/p.cjs').webPreferences?.preload).toBe('/p.cjs');
    expect(comfyWindowOptions().webPreferences).not.toHaveProperty('preload');
  });
});

describe('navigation', () => {
  it.each([
    ['http://127.0.0.1:8189/gate/', 'dashboard'],
    ['http://127.0.0.1:8189/gate/#/keys?new=1', 'dashboard'],
    ['http://127.0.0.1:8189/gate', 'dashboard'],
    ['http://127.0.0.1:8189/', 'comfyui'],
    ['http://127.0.0.1:8189/gateway', 'comfyui'],
    ['http://127.0.0.1:8189/api/view?filename=x.png', 'comfyui'],
    ['http://localhost:8189/gate/', 'external'],
    ['https://docs.comfy.org/', 'external'],
    ['file:///etc/passwd', 'blocked'],
    ['javascript:alert(1)', 'blocked'],
    ['not a url', 'blocked'],
  ] as const)('%s → %s', (url, target) => {
    expect(classifyNavigation(url, GATE)).toBe(target);
  });

  it('builds dashboard URLs with the route in the hash and nothing else', () => {
    expect(dashboardUrl(GATE)).toBe('http://127.0.0.1:8189/gate/');
    expect(dashboardUrl(GATE, '#/keys?new=1')).toBe('http://127.0.0.1:8189/gate/#/keys?new=1');
    expect(isDashboardUrl('http://127.0.0.1:8189/gate/#/usage', GATE)).toBe(true);
    expect(isDashboardUrl('http://127.0.0.1:8189/', GATE)).toBe(false);
  });
});

describe('owner session', () => {
  it('is an HttpOnly, SameSite=Lax cookie for the gate, expiring with the session', async () => {
    const set = vi.fn(() => Promise.resolve());
    await signInPartition({ set }, GATE, OWNER, Date.UTC(2026, 0, 1));
    expect(set).toHaveBeenCalledExactlyOnceWith({
      url: GATE,
      name: 'comfygate_session',
      value: 'eyJ.owner.jwt',
      path: '/',
      httpOnly: true,
      secure: false,
      sameSite: 'lax',
      expirationDate: Date.UTC(2026, 0, 1) / 1000 + 604_800,
    });
  });
});

describe('dashboard window', () => {
  it('signs its own partition in, then loads the dashboard with nothing secret in the URL', async () => {
    const { windows } = setup();
    await windows.openDashboard();
    expect(session.fromPartition).toHaveBeenCalledWith(GATE_PARTITION);
    expect(cookieJar.set).toHaveBeenCalledWith(
      expect.objectContaining({ url: GATE, value: OWNER.value, httpOnly: true })
    );
    const [window] = dashboards();
    expect(window?.loadURL).toHaveBeenCalledExactlyOnceWith('http://127.0.0.1:8189/gate/');
    expect(window?.loadURL.mock.calls.flat().join()).not.toContain(OWNER.value);
    expect(cookieJar.set.mock.invocationCallOrder[0]).toBeLessThan(window?.loadURL.mock.invocationCallOrder[0] ?? 0);
    expect(window?.visible).toBe(true);
    expect(window?.focus).toHaveBeenCalled();
  });

  it('is one window: opening again shows it, a route navigates it', async () => {
    const { windows } = setup();
    await windows.openDashboard();
    await windows.openDashboard();
    await windows.openDashboard('#/keys?new=1');
    expect(dashboards()).toHaveLength(1);
    expect(dashboards()[0]?.loadURL.mock.calls).toEqual([
      ['http://127.0.0.1:8189/gate/'],
      ['http://127.0.0.1:8189/gate/#/keys?new=1'],
    ]);
  });

  it('closing hides it to the tray; while quitting it really closes', async () => {
    const { windows, quit } = setup();
    await windows.openDashboard();
    const window = dashboards()[0];
    window?.close();
    expect(window?.destroyed).toBe(false);
    expect(window?.visible).toBe(false);
    expect(windows.dashboardContents()).toBeDefined();
    quit();
    window?.close();
    expect(window?.destroyed).toBe(true);
    expect(windows.dashboardContents()).toBeUndefined();
  });

  it('stays on the dashboard: other sites open in the browser, ComfyUI in its own window, file: nowhere', async () => {
    const { windows } = setup();
    await windows.openDashboard();
    const contents = dashboards()[0]?.webContents;
    expect(contents?.navigate('http://127.0.0.1:8189/gate/#/logs')).toBe(true);
    expect(contents?.navigate('https://github.com/comfyanonymous/ComfyUI')).toBe(false);
    expect(shell.openExternal).toHaveBeenCalledWith('https://github.com/comfyanonymous/ComfyUI');
    expect(contents?.navigate('file:///etc/passwd')).toBe(false);
    expect(shell.openExternal).toHaveBeenCalledTimes(1);
    expect(contents?.navigate('http://127.0.0.1:8189/')).toBe(false);
    await vi.waitFor(() => expect(comfyWindows()).toHaveLength(1));
    expect(contents?.openHandler?.({ url: 'https://example.com/' } as never)).toEqual({ action: 'deny' });
  });
});

describe('ComfyUI window', () => {
  it('opens ComfyUI through the gate, signed in, and is reused while open', async () => {
    const { windows } = setup();
    await windows.openComfyUI();
    await windows.openComfyUI();
    expect(comfyWindows()).toHaveLength(1);
    expect(comfyWindows()[0]?.loadURL).toHaveBeenCalledExactlyOnceWith('http://127.0.0.1:8189/');
    expect(cookieJar.set).toHaveBeenCalledOnce();
  });

  it('really closes (no hide), and a new one opens next time', async () => {
    const { windows } = setup();
    await windows.openComfyUI();
    comfyWindows()[0]?.close();
    expect(comfyWindows()[0]?.destroyed).toBe(true);
    await windows.openComfyUI();
    expect(comfyWindows()).toHaveLength(2);
  });

  it('asks before closing over unsaved work, and closes only when told to', async () => {
    const { windows } = setup();
    await windows.openComfyUI();
    const contents = comfyWindows()[0]?.webContents;
    const stay = fakeEvent();
    contents?.emit('will-prevent-unload', stay);
    expect(stay.defaultPrevented).toBe(false);
    dialog.showMessageBoxSync.mockReturnValueOnce(0);
    const leave = fakeEvent();
    contents?.emit('will-prevent-unload', leave);
    expect(leave.defaultPrevented).toBe(true);
  });
});
