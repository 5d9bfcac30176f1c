import type { MenuItemConstructorOptions } from 'electron';
import type { AuthMode } from '../../server/contract/desktop.js';
import type { DesktopState } from '../ipc/contract.js';

/** What the tray menu can do; the menu only decides which of these a click calls. */
export interface TrayActions {
  setMode(mode: AuthMode): void;
  setPaused(paused: boolean): void;
  /** The sharing switch: true shares on the network, false keeps the gate to this computer. */
  setSharing(network: boolean): void;
  openDashboard(): void;
  newKey(): void;
  copyShareUrl(): void;
  openComfyUI(): void;
  setOpenAtLogin(openAtLogin: boolean): void;
  showBypassHelp(): void;
  openHelp(): void;
  viewLogs(): void;
  openDataFolder(): void;
  quit(): void;
}

export const MODES: readonly AuthMode[] = ['off', 'optional', 'required'];

export const MODE_LABELS: Record<AuthMode, string> = {
  off: 'Off: anyone who can connect',
  optional: 'Optional: keys counted, guests allowed',
  required: 'Required: every request needs a key',
};

export const MODE_TITLES: Record<AuthMode, string> = { off: 'Off', optional: 'Optional', required: 'Required' };

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function upstreamLabel(reachable: boolean | undefined): string {
  if (reachable === undefined) return 'Checking ComfyUI…';
  return reachable ? 'ComfyUI online' : 'ComfyUI offline';
}

/** "ComfyUI online · 3 keys · 42 requests today" */
export function statusLine(state: DesktopState): string {
  return [
    upstreamLabel(state.upstream.reachable),
    count(state.keys, 'key', 'keys'),
    `${count(state.requestsToday, 'request', 'requests')} today`,
  ].join(' · ');
}

/** The tray's context menu as a pure function of the state: rebuilt and re-applied on every change. */
export function buildTrayTemplate(state: DesktopState, actions: TrayActions): MenuItemConstructorOptions[] {
  const warnings: MenuItemConstructorOptions[] = [];
  if (state.bypassUrl !== null) {
    warnings.push({
      id: 'bypass-warning',
      label: '⚠ ComfyUI is reachable without the gate…',
      click: () => actions.showBypassHelp(),
    });
  }
  if (state.mode === 'off' && state.share.reachableFromLan && !state.paused) {
    warnings.push({ id: 'open-warning', label: '⚠ Protection is off while shared on your network', enabled: false });
  }
  const shareNote: MenuItemConstructorOptions[] =
    state.share.note === null ? [] : [{ id: 'share-note', label: state.share.note, enabled: false }];

  return [
    { id: 'status', label: statusLine(state), enabled: false },
    ...warnings,
    { type: 'separator' },
    { id: 'protection', label: 'Protection', enabled: false },
    ...MODES.map((mode): MenuItemConstructorOptions => ({
      id: `mode-${mode}`,
      type: 'radio',
      label: MODE_LABELS[mode],
      checked: state.mode === mode,
      click: () => {
        if (state.mode !== mode) actions.setMode(mode);
      },
    })),
    { type: 'separator' },
    {
      id: 'share-network',
      type: 'checkbox',
      label: 'Share on my network',
      checked: state.network,
      click: () => actions.setSharing(!state.network),
    },
    {
      id: 'pause',
      type: 'checkbox',
      label: 'Pause sharing (only this computer gets through)',
      checked: state.paused,
      click: () => actions.setPaused(!state.paused),
    },
    { type: 'separator' },
    { id: 'open-dashboard', label: 'Open dashboard', click: () => actions.openDashboard() },
    { id: 'new-key', label: 'New key…', click: () => actions.newKey() },
    {
      id: 'copy-share-url',
      label: `Copy share URL (${state.share.url.replace(/^https?:\/\/|\/$/g, '')})`,
      click: () => actions.copyShareUrl(),
    },
    ...shareNote,
    {
      id: 'open-comfyui',
      label: 'Open ComfyUI through the gate',
      enabled: state.upstream.reachable !== false,
      click: () => actions.openComfyUI(),
    },
    { type: 'separator' },
    {
      id: 'start-at-login',
      type: 'checkbox',
      label: state.openAtLogin === null ? 'Start at login (installed app only)' : 'Start at login',
      checked: state.openAtLogin === true,
      enabled: state.openAtLogin !== null,
      click: () => actions.setOpenAtLogin(state.openAtLogin !== true),
    },
    { type: 'separator' },
    { id: 'view-logs', label: 'View logs', click: () => actions.viewLogs() },
    { id: 'open-data-folder', label: 'Open data folder', click: () => actions.openDataFolder() },
    { id: 'help', label: 'Help', click: () => actions.openHelp() },
    { id: 'quit', label: 'Quit ComfyGate', click: () => actions.quit() },
  ];
}
