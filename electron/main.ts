import { app, BrowserWindow } from 'electron';
import { loadConfig } from '../server/config/loadConfig.js';
import { startGate, type GateHandle } from '../server/gate.js';
import { dashboardWindowOptions } from './windowOptions.js';

/**
 * Placeholder shell until the desktop issue: starts the gate in-process with its data in the
 * app's userData folder and shows the dashboard. Tray, single instance and IPC come later.
 */
let gate: GateHandle | undefined;

async function start(): Promise<void> {
  await app.whenReady();
  const config = await loadConfig({ flags: { dataDir: app.getPath('userData') } });
  gate = await startGate({ config });
  const window = new BrowserWindow(dashboardWindowOptions());
  await window.loadURL(`${gate.url}/gate/`);
}

app.on('window-all-closed', () => {
  void gate?.stop().finally(() => app.quit());
});

start().catch((error: unknown) => {
  console.error('ComfyGate could not start:', error);
  app.exit(1);
});
