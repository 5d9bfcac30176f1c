// Fetches Electron's binary for `npm run desktop` / `npm run dist` only. The project's .npmrc sets
// ignore-scripts, so `npm install` never downloads it: a headless gate needs no Electron, and many
// servers cannot reach Electron's download host.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
let electronDir;
try {
  electronDir = dirname(require.resolve('electron/package.json'));
} catch {
  console.error('The electron package is not installed: run `npm install` first.');
  process.exit(1);
}

function binaryPresent() {
  const pathFile = join(electronDir, 'path.txt');
  if (!existsSync(pathFile)) return false;
  return existsSync(join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim()));
}

if (!binaryPresent()) {
  console.log("Downloading Electron's binary for the desktop app (once)…");
  const result = spawnSync(process.execPath, [join(electronDir, 'install.js')], { stdio: 'inherit' });
  if (result.status !== 0 || !binaryPresent()) {
    console.error(
      "Could not download Electron's binary. The desktop app needs it; the headless gate does not " +
        '(`npm start`). Retry with internet access, or set ELECTRON_MIRROR to a reachable mirror.'
    );
    process.exit(1);
  }
}
