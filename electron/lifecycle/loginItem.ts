import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from 'electron';

/** The argument a start at login passes, so the app stays in the tray (see startsHidden). */
export const HIDDEN_ARG = '--hidden';

export interface LoginItem {
  /** False when run from source: an unpackaged Electron must not register itself as a login item. */
  readonly available: boolean;
  get(): boolean;
  set(openAtLogin: boolean): void;
}

export interface LoginItemEnv {
  app: Pick<App, 'isPackaged' | 'getLoginItemSettings' | 'setLoginItemSettings'>;
  platform: NodeJS.Platform;
  /** What to start: the AppImage file when run from one, else the executable. */
  executable: string;
  /** Linux: `$XDG_CONFIG_HOME/autostart`. */
  autostartDir: string;
}

/**
 * Start at login: `app.setLoginItemSettings` on macOS and Windows; on Linux, where Electron has no
 * such API, an XDG autostart entry.
 */
export function createLoginItem(env: LoginItemEnv): LoginItem {
  if (!env.app.isPackaged) return { available: false, get: () => false, set: () => undefined };
  if (env.platform === 'linux') {
    const file = join(env.autostartDir, 'comfygate.desktop');
    return {
      available: true,
      get: () => existsSync(file),
      set(openAtLogin) {
        if (!openAtLogin) return rmSync(file, { force: true });
        mkdirSync(env.autostartDir, { recursive: true });
        writeFileSync(file, autostartEntry(env.executable));
      },
    };
  }
  return {
    available: true,
    get: () => env.app.getLoginItemSettings({ args: [HIDDEN_ARG] }).openAtLogin,
    set(openAtLogin) {
      env.app.setLoginItemSettings({ openAtLogin, args: [HIDDEN_ARG] });
    },
  };
}

/** A Desktop Entry `Exec` argument, quoted as the spec asks when it needs quoting. */
function quoteExecArg(arg: string): string {
  if (!/[\s"'\\`$<>|;&*?#()]/.test(arg)) return arg;
  return `"${arg.replace(/["`$\\]/g, (c) => `\\${c}`)}"`;
}

export function autostartEntry(executable: string): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=ComfyGate',
    'Comment=Share ComfyUI safely: keys, limits and logs',
    `Exec=${quoteExecArg(executable)} ${HIDDEN_ARG}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}
