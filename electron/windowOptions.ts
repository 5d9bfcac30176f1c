import type { BrowserWindowConstructorOptions } from 'electron';

/** The dashboard is our own page from the gate: no Node in the renderer, sandboxed, isolated. */
export function dashboardWindowOptions(): BrowserWindowConstructorOptions {
  return {
    width: 1100,
    height: 760,
    title: 'ComfyGate',
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  };
}
