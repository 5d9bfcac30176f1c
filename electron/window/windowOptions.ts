import type { BrowserWindowConstructorOptions } from 'electron';

/** The dashboard window and the ComfyUI window share this session, where the owner's cookie lives. */
export const GATE_PARTITION = 'persist:comfygate';

/** No Node in any page, sandboxed, isolated: these windows load pages from a network server. */
const SECURE_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  webSecurity: true,
  partition: GATE_PARTITION,
} as const;

/** The dashboard: our own page from the gate, with the small typed desktop API in its preload. */
export function dashboardWindowOptions(preload: string, icon?: string): BrowserWindowConstructorOptions {
  return {
    width: 1100,
    height: 760,
    title: 'ComfyGate',
    show: false,
    ...(icon === undefined ? {} : { icon }),
    webPreferences: { ...SECURE_PREFERENCES, preload },
  };
}

/** ComfyUI through the gate. No preload: ComfyUI runs custom nodes' scripts, which get no desktop API. */
export function comfyWindowOptions(icon?: string): BrowserWindowConstructorOptions {
  return {
    width: 1400,
    height: 900,
    title: 'ComfyUI · ComfyGate',
    show: false,
    ...(icon === undefined ? {} : { icon }),
    webPreferences: { ...SECURE_PREFERENCES },
  };
}
