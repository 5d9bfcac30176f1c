/**
 * The dashboard window's preload (sandboxed: bundled to one CommonJS file by vite.preload.config.ts).
 * Exposes a small API as `window.comfygateDesktop`; the dashboard works without it in a browser.
 */
import { contextBridge } from 'electron';
import type { AuthMode } from '../server/contract/desktop.js';
import { DESKTOP_API_NAME, IPC_CHANNELS, type DesktopState } from './ipc/contract.js';
import { invoke, onPush } from './ipc/rendererIpc.js';

const desktopApi = {
  getState: () => invoke(IPC_CHANNELS.getState),
  setMode: (mode: AuthMode) => invoke(IPC_CHANNELS.setMode, mode),
  setPaused: (paused: boolean) => invoke(IPC_CHANNELS.setPaused, paused),
  copyShareUrl: () => invoke(IPC_CHANNELS.copyShareUrl),
  openComfyUI: () => invoke(IPC_CHANNELS.openComfyUI),
  /** Returns the unsubscribe function. */
  onStateChanged: (listener: (state: DesktopState) => void) => onPush(IPC_CHANNELS.stateChanged, listener),
};

export type DesktopApi = typeof desktopApi;

try {
  contextBridge.exposeInMainWorld(DESKTOP_API_NAME, desktopApi);
} catch (error) {
  console.error('ComfyGate: could not expose the desktop API', error);
}
