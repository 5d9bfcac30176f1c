import type { NativeImage } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import type { DesktopState } from '../../electron/ipc/contract.js';
import { trayIconName, trayIconPath, trayTooltip, TRAY_ICONS } from '../../electron/tray/trayAppearance.js';
import { createTrayController } from '../../electron/tray/trayController.js';
import { buildTrayTemplate, statusLine } from '../../electron/tray/trayMenu.js';
import { checkedRadio, click, desktopState, fakeActions, item, maybeItem } from './fixtures.js';

const enabled = (entry: { enabled?: boolean }): boolean => entry.enabled !== false;

/** The five states the tray has an icon for. */
const STATES: Record<(typeof TRAY_ICONS)[number], DesktopState> = {
  off: desktopState({ mode: 'off' }),
  optional: desktopState({ mode: 'optional' }),
  required: desktopState({ mode: 'required' }),
  unreachable: desktopState({ mode: 'required', upstream: { reachable: false } }),
  paused: desktopState({ mode: 'optional', paused: true }),
};

describe('buildTrayTemplate', () => {
  it.each([
    ['off', 'mode-off'],
    ['optional', 'mode-optional'],
    ['required', 'mode-required'],
    ['unreachable', 'mode-required'],
    ['paused', 'mode-optional'],
  ] as const)('state %s: exactly the protection radio of the mode is checked', (name, radio) => {
    const template = buildTrayTemplate(STATES[name], fakeActions());
    expect(checkedRadio(template)).toBe(radio);
    expect(template.filter((e) => e.type === 'radio').map((e) => e.id)).toEqual([
      'mode-off',
      'mode-optional',
      'mode-required',
    ]);
    expect(template.filter((e) => e.type === 'radio').every(enabled)).toBe(true);
  });

  it('starts with a disabled status line: ComfyUI online · keys · requests today', () => {
    const template = buildTrayTemplate(STATES.required, fakeActions());
    expect(template[0]).toMatchObject({
      id: 'status',
      enabled: false,
      label: 'ComfyUI online · 3 keys · 42 requests today',
    });
  });

  it('says ComfyUI offline, uses singulars, and says "checking" before the first answer', () => {
    expect(statusLine(STATES.unreachable)).toBe('ComfyUI offline · 3 keys · 42 requests today');
    expect(statusLine(desktopState({ keys: 1, requestsToday: 1 }))).toBe('ComfyUI online · 1 key · 1 request today');
    expect(statusLine(desktopState({ upstream: { reachable: undefined } }))).toMatch(/^Checking ComfyUI…/);
  });

  it('Share on my network is one checkbox that shows where the gate listens and flips it', () => {
    const actions = fakeActions();
    const shared = buildTrayTemplate(desktopState({ network: true }), actions);
    expect(item(shared, 'share-network')).toMatchObject({
      type: 'checkbox',
      label: 'Share on my network',
      checked: true,
    });
    click(shared, 'share-network');
    expect(actions.setSharing).toHaveBeenCalledWith(false);
    const local = buildTrayTemplate(desktopState({ network: false }), actions);
    expect(item(local, 'share-network')).toMatchObject({ checked: false });
    click(local, 'share-network');
    expect(actions.setSharing).toHaveBeenLastCalledWith(true);
  });

  it('Pause sharing is a checkbox that shows the pause and flips it', () => {
    const running = buildTrayTemplate(STATES.required, fakeActions());
    expect(item(running, 'pause')).toMatchObject({ type: 'checkbox', checked: false });
    const actions = fakeActions();
    const paused = buildTrayTemplate(STATES.paused, actions);
    expect(item(paused, 'pause')).toMatchObject({ type: 'checkbox', checked: true });
    click(paused, 'pause');
    expect(actions.setPaused).toHaveBeenCalledWith(false);
  });

  it('offers Open ComfyUI only while ComfyUI is not known to be down', () => {
    expect(enabled(item(buildTrayTemplate(STATES.required, fakeActions()), 'open-comfyui'))).toBe(true);
    expect(enabled(item(buildTrayTemplate(STATES.unreachable, fakeActions()), 'open-comfyui'))).toBe(false);
    const checking = desktopState({ upstream: { reachable: undefined } });
    expect(enabled(item(buildTrayTemplate(checking, fakeActions()), 'open-comfyui'))).toBe(true);
  });

  it('labels Copy share URL with the LAN address and notes a loopback-only gate', () => {
    const shared = buildTrayTemplate(STATES.required, fakeActions());
    expect(item(shared, 'copy-share-url').label).toBe('Copy share URL (192.168.1.20:8189)');
    expect(maybeItem(shared, 'share-note')).toBeUndefined();

    const note = 'The gate listens only on 127.0.0.1: teammates cannot connect…';
    const local = buildTrayTemplate(desktopState({ share: { reachableFromLan: false, note } }), fakeActions());
    expect(item(local, 'share-note')).toMatchObject({ label: note, enabled: false });
    expect(enabled(item(local, 'copy-share-url'))).toBe(true);
  });

  it('warns when protection is off on a gate the network can reach, not otherwise', () => {
    expect(item(buildTrayTemplate(STATES.off, fakeActions()), 'open-warning').enabled).toBe(false);
    const local = desktopState({ mode: 'off', share: { reachableFromLan: false } });
    expect(maybeItem(buildTrayTemplate(local, fakeActions()), 'open-warning')).toBeUndefined();
    expect(maybeItem(buildTrayTemplate(STATES.required, fakeActions()), 'open-warning')).toBeUndefined();
    const pausedOff = desktopState({ mode: 'off', paused: true });
    expect(maybeItem(buildTrayTemplate(pausedOff, fakeActions()), 'open-warning')).toBeUndefined();
  });

  it('shows the bypass warning only when ComfyUI answers around the gate, and explains on click', () => {
    expect(maybeItem(buildTrayTemplate(STATES.required, fakeActions()), 'bypass-warning')).toBeUndefined();
    const actions = fakeActions();
    const template = buildTrayTemplate(desktopState({ bypassUrl: 'http://192.168.1.20:8188' }), actions);
    expect(enabled(item(template, 'bypass-warning'))).toBe(true);
    click(template, 'bypass-warning');
    expect(actions.showBypassHelp).toHaveBeenCalledOnce();
  });

  it('Start at login is a checkbox, disabled when run from source', () => {
    const on = buildTrayTemplate(desktopState({ openAtLogin: true }), fakeActions());
    expect(item(on, 'start-at-login')).toMatchObject({ type: 'checkbox', checked: true, label: 'Start at login' });
    expect(enabled(item(on, 'start-at-login'))).toBe(true);
    const source = buildTrayTemplate(desktopState({ openAtLogin: null }), fakeActions());
    expect(item(source, 'start-at-login')).toMatchObject({ checked: false, enabled: false });
    expect(item(source, 'start-at-login').label).toMatch(/installed app only/);
  });

  it('has the items of the issue, in order, with Quit last', () => {
    const ids = buildTrayTemplate(STATES.required, fakeActions())
      .filter((e) => e.type !== 'separator')
      .map((e) => e.id);
    expect(ids).toEqual([
      'status',
      'protection',
      'mode-off',
      'mode-optional',
      'mode-required',
      'share-network',
      'pause',
      'open-dashboard',
      'new-key',
      'copy-share-url',
      'open-comfyui',
      'start-at-login',
      'view-logs',
      'open-data-folder',
      'help',
      'quit',
    ]);
    expect(item(buildTrayTemplate(STATES.required, fakeActions()), 'new-key').label).toBe('New key…');
  });

  describe('each item calls the right action', () => {
    it.each([
      ['mode-off', 'setMode', ['off']],
      ['mode-optional', 'setMode', ['optional']],
      ['pause', 'setPaused', [true]],
      ['open-dashboard', 'openDashboard', []],
      ['new-key', 'newKey', []],
      ['copy-share-url', 'copyShareUrl', []],
      ['open-comfyui', 'openComfyUI', []],
      ['start-at-login', 'setOpenAtLogin', [true]],
      ['view-logs', 'viewLogs', []],
      ['open-data-folder', 'openDataFolder', []],
      ['help', 'openHelp', []],
      ['quit', 'quit', []],
    ] as const)('%s → %s(%j)', (id, action, args) => {
      const actions = fakeActions();
      click(buildTrayTemplate(STATES.required, actions), id);
      expect(actions[action]).toHaveBeenCalledExactlyOnceWith(...args);
      const others = Object.entries(actions).filter(([name]) => name !== action);
      for (const [, fn] of others) expect(fn).not.toHaveBeenCalled();
    });

    it('clicking the mode that is already on changes nothing', () => {
      const actions = fakeActions();
      click(buildTrayTemplate(STATES.required, actions), 'mode-required');
      expect(actions.setMode).not.toHaveBeenCalled();
    });
  });
});

describe('tray appearance', () => {
  it.each(TRAY_ICONS)('state %s has its own icon', (name) => {
    expect(trayIconName(STATES[name])).toBe(name);
  });

  it('ComfyUI unreachable outranks paused, paused outranks the mode', () => {
    expect(trayIconName(desktopState({ paused: true, upstream: { reachable: false } }))).toBe('unreachable');
    expect(trayIconName(desktopState({ mode: 'off', paused: true }))).toBe('paused');
    expect(trayIconName(desktopState({ upstream: { reachable: undefined } }))).toBe('required');
  });

  it('uses template images on macOS and coloured PNGs elsewhere', () => {
    expect(trayIconPath('paused', 'darwin', '/a')).toBe('/a/tray/pausedTemplate.png');
    expect(trayIconPath('paused', 'linux', '/a')).toBe('/a/tray/paused.png');
    expect(trayIconPath('off', 'win32', '/a')).toMatch(/off\.png$/);
  });

  it('has a tooltip naming the mode, a pause and ComfyUI, short enough for Windows', () => {
    expect(trayTooltip(STATES.required)).toBe('ComfyGate · Protection: Required · ComfyUI online');
    expect(trayTooltip(STATES.paused)).toBe('ComfyGate · Protection: Optional · Sharing paused · ComfyUI online');
    expect(trayTooltip(STATES.unreachable)).toContain('ComfyUI offline');
    for (const state of Object.values(STATES)) expect(trayTooltip(state).length).toBeLessThan(128);
  });
});

describe('createTrayController', () => {
  function setup(initial: DesktopState) {
    let state = initial;
    const tray = {
      setImage: vi.fn(),
      setToolTip: vi.fn(),
      setContextMenu: vi.fn(),
      isDestroyed: vi.fn(() => false),
      destroy: vi.fn(),
    };
    const onApplied = vi.fn();
    const controller = createTrayController({
      tray,
      state: () => state,
      actions: fakeActions(),
      icon: (name) => ({ name }) as unknown as NativeImage,
      buildMenu: (template) => ({ template }) as never,
      onApplied,
    });
    return { tray, controller, onApplied, set: (next: DesktopState) => (state = next) };
  }

  it('applies icon, tooltip and a fresh menu when the state changes, and only then', () => {
    const { tray, controller, onApplied, set } = setup(STATES.required);
    controller.refresh();
    controller.refresh();
    expect(tray.setContextMenu).toHaveBeenCalledOnce();
    expect(tray.setImage).toHaveBeenLastCalledWith({ name: 'required' });
    set(STATES.unreachable);
    controller.refresh();
    expect(tray.setImage).toHaveBeenLastCalledWith({ name: 'unreachable' });
    expect(tray.setToolTip).toHaveBeenLastCalledWith(expect.stringContaining('offline'));
    expect(tray.setContextMenu).toHaveBeenCalledTimes(2);
    expect(onApplied).toHaveBeenLastCalledWith(STATES.unreachable);
    controller.refresh(true);
    expect(tray.setContextMenu).toHaveBeenCalledTimes(3);
  });

  it('leaves a destroyed tray alone', () => {
    const { tray, controller } = setup(STATES.required);
    tray.isDestroyed.mockReturnValue(true);
    controller.refresh(true);
    controller.dispose();
    expect(tray.setImage).not.toHaveBeenCalled();
    expect(tray.destroy).not.toHaveBeenCalled();
  });
});
