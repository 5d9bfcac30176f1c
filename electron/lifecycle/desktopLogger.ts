import { mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { createLogger, type Logger } from '../../server/contract/desktop.js';

/** Above this size the previous log is kept as desktop.log.1 and a new one begins. */
const ROTATE_BYTES = 5 * 1024 * 1024;

/**
 * Run from source, the log goes to the terminal like `comfygate serve`'s. Installed, nobody sees
 * stderr (Windows has none), so it goes to `logs/desktop.log` in the data dir.
 */
export function createDesktopLogger(level: string, options: { packaged: boolean; dataDir: string }): Logger {
  if (!options.packaged) return createLogger(level);
  const dir = join(options.dataDir, 'logs');
  const file = join(dir, 'desktop.log');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    if (statSync(file).size > ROTATE_BYTES) renameSync(file, `${file}.1`);
  } catch {
    // no log yet
  }
  return pino({ level, base: undefined }, pino.destination({ dest: file, sync: false, mkdir: true }));
}
