import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from 'electron';
import { defaultDataDir } from '../../server/contract/desktop.js';

export interface DesktopPaths {
  /** The built dashboard the gate serves at /gate/. */
  dashboardDir: string;
  /** The preload bundle (CommonJS: sandboxed preloads cannot be ES modules). */
  preload: string;
  /** Tray icons and the app icon (shipped next to dist/, see electron-builder.yml `files`). */
  assetsDir: string;
  appIcon: string;
}

/** Paths relative to the compiled main module (`dist/electron/main.js`), inside app.asar or not. */
export function desktopPaths(mainModuleUrl: string): DesktopPaths {
  const here = fileURLToPath(new URL('.', mainModuleUrl));
  const assetsDir = join(here, '..', '..', 'electron', 'assets');
  return {
    dashboardDir: join(here, '..', 'renderer'),
    preload: join(here, 'preload.cjs'),
    assetsDir,
    appIcon: join(assetsDir, 'icon.png'),
  };
}

/**
 * userData is the gate's data dir, the same folder the `comfygate` CLI uses (so both see the same
 * keys), or COMFYGATE_DATA_DIR. Chromium's own files (cookies, caches) go to a subfolder.
 * Must run before `ready`.
 */
export function prepareAppPaths(app: Pick<App, 'setPath'>, env: NodeJS.ProcessEnv = process.env): string {
  const dataDir = env['COMFYGATE_DATA_DIR'] || defaultDataDir(env);
  app.setPath('userData', dataDir);
  app.setPath('sessionData', join(dataDir, 'Session'));
  return dataDir;
}
