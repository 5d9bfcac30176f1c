import type { MenuItemConstructorOptions } from 'electron';
import { vi } from 'vitest';
import type { DesktopState } from '../../electron/ipc/contract.js';
import type { TrayActions } from '../../electron/tray/trayMenu.js';
import type { GateState } from '../../server/gate.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] };

/** A gate that is up, in mode required, shared on the LAN, ComfyUI reachable. */
export function desktopState(overrides: DeepPartial<DesktopState> = {}): DesktopState {
  const base: DesktopState = {
    mode: 'required',
    paused: false,
    network: true,
    upstream: { url: 'http://127.0.0.1:8188', reachable: true },
    keys: 3,
    requestsToday: 42,
    share: {
      url: 'http://192.168.1.20:8189/',
      urls: ['http://192.168.1.20:8189/'],
      reachableFromLan: true,
      note: null,
    },
    bypassUrl: null,
    openAtLogin: false,
  };
  return {
    ...base,
    ...overrides,
    upstream: { ...base.upstream, ...overrides.upstream },
    share: { ...base.share, ...overrides.share },
  };
}

export function gateState(overrides: Partial<GateState> = {}): GateState {
  return {
    url: 'http://127.0.0.1:8189',
    listen: { host: '127.0.0.1', port: 8189 },
    network: false,
    tls: null,
    mode: 'required',
    paused: false,
    upstream: { url: 'http://127.0.0.1:8188', reachable: true },
    backends: [],
    share: {
      url: 'http://127.0.0.1:8189/',
      urls: ['http://127.0.0.1:8189/'],
      reachableFromLan: false,
      note: 'This link works on this computer only.',
    },
    openSockets: 0,
    keys: 2,
    requestsToday: 0,
    notifications: { comfyDown: true, firstUse: true, lockout: true, quota: true },
    ...overrides,
  };
}

export function fakeActions(): { [K in keyof TrayActions]: ReturnType<typeof vi.fn<TrayActions[K]>> } {
  return {
    setMode: vi.fn(),
    setPaused: vi.fn(),
    setSharing: vi.fn(),
    openDashboard: vi.fn(),
    newKey: vi.fn(),
    copyShareUrl: vi.fn(),
    openComfyUI: vi.fn(),
    setOpenAtLogin: vi.fn(),
    showBypassHelp: vi.fn(),
    openHelp: vi.fn(),
    viewLogs: vi.fn(),
    openDataFolder: vi.fn(),
    quit: vi.fn(),
  };
}

export function item(template: MenuItemConstructorOptions[], id: string): MenuItemConstructorOptions {
  const found = template.find((entry) => entry.id === id);
  if (!found) throw new Error(`no menu item "${id}" in ${template.map((e) => e.id ?? e.type).join(', ')}`);
  return found;
}

export function maybeItem(template: MenuItemConstructorOptions[], id: string): MenuItemConstructorOptions | undefined {
  return template.find((entry) => entry.id === id);
}

/** Clicks a menu item as Electron would (the handlers here ignore the arguments). */
export function click(template: MenuItemConstructorOptions[], id: string): void {
  const handler = item(template, id).click;
  if (!handler) throw new Error(`menu item "${id}" has no click handler`);
  (handler as () => void)();
}

/** The checked radio item's id. */
export function checkedRadio(template: MenuItemConstructorOptions[]): string | undefined {
  return template.filter((entry) => entry.type === 'radio' && entry.checked).map((entry) => entry.id)[0];
}
