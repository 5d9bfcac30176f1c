import { describe, expect, it, vi } from 'vitest';
import type { DesktopState } from '../../electron/ipc/contract.js';
import { createTrayActions, DASHBOARD_ROUTES, type TrayActionDeps } from '../../electron/tray/trayActions.js';
import { buildTrayTemplate } from '../../electron/tray/trayMenu.js';
import { click, desktopState } from './fixtures.js';
import type { SharingReport } from '../../server/net/sharingSchema.js';

function setup(state: DesktopState = desktopState(), overrides: Partial<TrayActionDeps> = {}) {
  const deps = {
    gate: {
      setMode: vi.fn(() => Promise.resolve()),
      setPaused: vi.fn(),
      setSharing: vi.fn((network: boolean) => Promise.resolve(sharingReport(network))),
    },
    state: () => state,
    openDashboard: vi.fn((_route: string) => Promise.resolve()),
    openComfyUI: vi.fn(() => Promise.resolve()),
    dataDir: '/home/ana/.config/ComfyGate',
    openPath: vi.fn((_path: string) => Promise.resolve('')),
    writeClipboard: vi.fn(),
    setOpenAtLogin: vi.fn(),
    ask: vi.fn(() => Promise.resolve(0)),
    showBypassHelp: vi.fn(() => Promise.resolve()),
    notify: vi.fn(),
    refresh: vi.fn(),
    quit: vi.fn(),
    report: vi.fn(),
    ...overrides,
  } satisfies TrayActionDeps;
  const actions = createTrayActions(deps);
  /** Clicks the item in the menu built for `state`, as the operator would. */
  const clickItem = (id: string): void => click(buildTrayTemplate(state, actions), id);
  return { deps, actions, clickItem };
}

function sharingReport(network: boolean): SharingReport {
  const url = network ? 'http://192.168.1.20:8189/' : 'http://127.0.0.1:8189/';
  return {
    network,
    listen: { host: network ? '0.0.0.0' : '127.0.0.1', port: 8189 },
    url: 'http://127.0.0.1:8189',
    share: { url, urls: [url], reachableFromLan: network, note: network ? null : 'This computer only.' },
  };
}

/** Lets the promise chains started by a click settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('tray actions drive the gate', () => {
  it('Protection → Optional calls gate.setMode("optional") at once', async () => {
    const { deps, clickItem } = setup();
    clickItem('mode-optional');
    await settle();
    expect(deps.gate.setMode).toHaveBeenCalledExactlyOnceWith('optional');
    expect(deps.ask).not.toHaveBeenCalled();
  });

  it('Protection → Off on a gate the LAN can reach asks first, and does nothing when cancelled', async () => {
    const { deps, clickItem } = setup(desktopState(), { ask: vi.fn(() => Promise.resolve(1)) });
    clickItem('mode-off');
    await settle();
    expect(deps.ask).toHaveBeenCalledWith(expect.objectContaining({ buttons: ['Turn off', 'Cancel'], cancelId: 1 }));
    expect(deps.gate.setMode).not.toHaveBeenCalled();
    expect(deps.refresh).toHaveBeenCalled(); // puts the radio back on the current mode
  });

  it('Protection → Off on a gate the LAN can reach, confirmed, turns it off', async () => {
    const { deps, clickItem } = setup();
    clickItem('mode-off');
    await settle();
    expect(deps.gate.setMode).toHaveBeenCalledExactlyOnceWith('off');
  });

  it('Protection → Off on a loopback-only gate needs no confirmation', async () => {
    const { deps, clickItem } = setup(desktopState({ share: { reachableFromLan: false } }));
    clickItem('mode-off');
    await settle();
    expect(deps.ask).not.toHaveBeenCalled();
    expect(deps.gate.setMode).toHaveBeenCalledWith('off');
  });

  it('a failed mode change is reported, never thrown into the menu', async () => {
    const { deps, clickItem } = setup(desktopState(), {
      gate: {
        setMode: vi.fn(() => Promise.reject(new Error('disk full'))),
        setPaused: vi.fn(),
        setSharing: vi.fn(() => Promise.reject(new Error('unused'))),
      },
    });
    clickItem('mode-optional');
    await settle();
    expect(deps.report).toHaveBeenCalledWith('change protection', expect.objectContaining({ message: 'disk full' }));
  });

  it('Pause sharing calls gate.setPaused(true), and again to resume', () => {
    const running = setup();
    running.clickItem('pause');
    expect(running.deps.gate.setPaused).toHaveBeenCalledExactlyOnceWith(true);
    const paused = setup(desktopState({ paused: true }));
    paused.clickItem('pause');
    expect(paused.deps.gate.setPaused).toHaveBeenCalledExactlyOnceWith(false);
  });

  it('Open dashboard, New key… and Help open the dashboard at the right route', async () => {
    const { deps, clickItem } = setup();
    clickItem('open-dashboard');
    clickItem('new-key');
    clickItem('help');
    await settle();
    expect(vi.mocked(deps.openDashboard).mock.calls).toEqual([
      [DASHBOARD_ROUTES.home],
      [DASHBOARD_ROUTES.newKey],
      [DASHBOARD_ROUTES.help],
    ]);
    expect(DASHBOARD_ROUTES.newKey).toBe('#/keys?new=1');
    expect(DASHBOARD_ROUTES.help).toBe('#/help');
  });

  it('View logs opens the dashboard on its Logs page', async () => {
    const { deps, clickItem } = setup();
    clickItem('view-logs');
    await settle();
    expect(deps.openDashboard).toHaveBeenCalledExactlyOnceWith('#/logs');
  });

  it('Open data folder opens the data dir in the file manager; a failure is reported with the folder', async () => {
    const { deps, clickItem } = setup();
    clickItem('open-data-folder');
    await settle();
    expect(deps.openPath).toHaveBeenCalledExactlyOnceWith('/home/ana/.config/ComfyGate');
    expect(deps.report).not.toHaveBeenCalled();

    const failing = setup(desktopState(), { openPath: vi.fn(() => Promise.resolve('Failed to open path')) });
    failing.clickItem('open-data-folder');
    await settle();
    expect(failing.deps.report).toHaveBeenCalledWith(
      'open the data folder',
      expect.objectContaining({ message: '/home/ana/.config/ComfyGate: Failed to open path' })
    );
  });

  it('Copy share URL copies the LAN URL and says what to do with it', () => {
    const { deps, clickItem } = setup();
    clickItem('copy-share-url');
    expect(deps.writeClipboard).toHaveBeenCalledExactlyOnceWith('http://192.168.1.20:8189/');
    expect(deps.notify).toHaveBeenCalledWith('Share URL copied', expect.stringContaining('sign in with their key'));
  });

  it('Copy share URL on a loopback-only gate passes the note on', () => {
    const note = 'The gate listens only on 127.0.0.1: …';
    const { deps, clickItem } = setup(desktopState({ share: { reachableFromLan: false, note } }));
    clickItem('copy-share-url');
    expect(deps.notify).toHaveBeenCalledWith('Share URL copied', note);
  });

  it('Open ComfyUI through the gate opens its window', async () => {
    const { deps, clickItem } = setup();
    clickItem('open-comfyui');
    await settle();
    expect(deps.openComfyUI).toHaveBeenCalledOnce();
  });

  it('Start at login sets the login item and re-applies the menu; a failure is reported', () => {
    const { deps, clickItem } = setup();
    clickItem('start-at-login');
    expect(deps.setOpenAtLogin).toHaveBeenCalledExactlyOnceWith(true);
    expect(deps.refresh).toHaveBeenCalled();

    const failing = setup(desktopState({ openAtLogin: true }), {
      setOpenAtLogin: vi.fn(() => {
        throw new Error('denied');
      }),
    });
    failing.clickItem('start-at-login');
    expect(failing.deps.setOpenAtLogin).toHaveBeenCalledWith(false);
    expect(failing.deps.report).toHaveBeenCalledWith('change start at login', expect.any(Error));
  });

  it('the bypass warning shows how to fix it', async () => {
    const { deps, clickItem } = setup(desktopState({ bypassUrl: 'http://192.168.1.20:8188' }));
    clickItem('bypass-warning');
    await settle();
    expect(deps.showBypassHelp).toHaveBeenCalledWith('http://192.168.1.20:8188');
  });

  it('Quit quits', () => {
    const { deps, clickItem } = setup();
    clickItem('quit');
    expect(deps.quit).toHaveBeenCalledOnce();
    expect(deps.gate.setMode).not.toHaveBeenCalled();
  });

  it('Share on my network moves the gate to the network and says where teammates connect', async () => {
    const { deps, clickItem } = setup(desktopState({ network: false }));
    clickItem('share-network');
    await settle();
    expect(deps.gate.setSharing).toHaveBeenCalledExactlyOnceWith(true);
    expect(deps.notify).toHaveBeenCalledWith('Shared on your network', expect.stringContaining('192.168.1.20:8189'));
  });

  it('unticking Share on my network keeps the gate to this computer', async () => {
    const { deps, clickItem } = setup(desktopState({ network: true }));
    clickItem('share-network');
    await settle();
    expect(deps.gate.setSharing).toHaveBeenCalledExactlyOnceWith(false);
  });

  it('with protection off it asks to require keys first, and shares nothing when cancelled', async () => {
    const cancelled = setup(desktopState({ network: false, mode: 'off' }), { ask: vi.fn(() => Promise.resolve(1)) });
    cancelled.clickItem('share-network');
    await settle();
    expect(cancelled.deps.ask).toHaveBeenCalledWith(
      expect.objectContaining({ buttons: ['Require keys and share', 'Cancel'] })
    );
    expect(cancelled.deps.gate.setSharing).not.toHaveBeenCalled();
    expect(cancelled.deps.refresh).toHaveBeenCalled();

    const confirmed = setup(desktopState({ network: false, mode: 'off' }));
    confirmed.clickItem('share-network');
    await settle();
    expect(confirmed.deps.gate.setMode).toHaveBeenCalledWith('required');
    expect(confirmed.deps.gate.setSharing).toHaveBeenCalledWith(true);
  });

  it('a refused switch is reported, never thrown into the menu', async () => {
    const { deps, clickItem } = setup(desktopState({ network: false }), {
      gate: {
        setMode: vi.fn(() => Promise.resolve()),
        setPaused: vi.fn(),
        setSharing: vi.fn(() => Promise.reject(new Error('Port 8189 on 0.0.0.0 is already in use.'))),
      },
    });
    clickItem('share-network');
    await settle();
    expect(deps.report).toHaveBeenCalledWith(
      'change sharing',
      expect.objectContaining({ message: expect.stringMatching(/in use/) as string })
    );
  });
});
