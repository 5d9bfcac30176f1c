/**
 * ComfyGate desktop: the entry point. Synchronous set-up first (paths, quit handling, the
 * single-instance lock), then one async start; the parts live in desktopApp.ts and its modules.
 */
import { app, dialog } from 'electron';
import { startDesktopApp, type DesktopApp } from './desktopApp.js';
import { desktopPaths, prepareAppPaths } from './lifecycle/appPaths.js';
import { createShutdown } from './lifecycle/shutdown.js';
import { claimSingleInstance } from './lifecycle/singleInstance.js';
import { describeStartError } from './lifecycle/startError.js';

/** Gate shutdown has its own grace period (5 s by default); this only catches a hang. */
const SHUTDOWN_STEP_TIMEOUT_MS = 20_000;

prepareAppPaths(app);
const shutdown = createShutdown(app, {
  stepTimeoutMs: SHUTDOWN_STEP_TIMEOUT_MS,
  log: (message, error) => console.error(`ComfyGate: ${message}`, error ?? ''),
});
let desktop: Promise<DesktopApp> | undefined;

if (claimSingleInstance(app, showDashboardOfFirstInstance)) {
  quitOnSignals();
  desktop = startDesktopApp({ shutdown, paths: desktopPaths(import.meta.url), argv: process.argv });
  desktop.catch(failToStart);
}

/** A second launch (double-click, start menu) means "show me the app". */
function showDashboardOfFirstInstance(): void {
  desktop?.then((started) => started.showDashboard()).catch(() => undefined);
}

/** Ctrl-C in `npm run desktop`, or a service manager: the same ordered shutdown as Quit. */
function quitOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());
}

function failToStart(error: unknown): void {
  console.error('ComfyGate could not start:', error);
  dialog.showErrorBox('ComfyGate could not start', describeStartError(error));
  shutdown.quit(1).catch(() => undefined);
}
