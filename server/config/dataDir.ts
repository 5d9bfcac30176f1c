import { homedir } from 'node:os';
import { join } from 'node:path';

/** The per-user config folder each platform expects, as Electron's app.getPath('userData') would pick. */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform
): string {
  if (platform === 'win32') return join(env['APPDATA'] ?? join(homedir(), 'AppData', 'Roaming'), 'ComfyGate');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'ComfyGate');
  const xdg = env['XDG_CONFIG_HOME'];
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.config'), 'comfygate');
}
