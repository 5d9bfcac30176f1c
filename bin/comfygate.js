#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/server/cli/main.js', import.meta.url);
const builder = new URL('../scripts/build-if-stale.js', import.meta.url);
// npm install runs no scripts (.npmrc), so a fresh checkout is built on first use. The build's
// output goes to stderr: stdout belongs to the command (`keys create --json` is read by scripts).
if (!existsSync(entry) && existsSync(builder)) {
  process.stderr.write('comfygate: building the gate once (a fresh checkout)…\n');
  spawnSync(process.execPath, [fileURLToPath(builder)], { stdio: ['ignore', process.stderr, process.stderr] });
}
if (!existsSync(entry)) {
  process.stderr.write(
    'comfygate: not built yet; run `npm run build` (or `npm start`) in the ComfyGate folder first\n'
  );
  process.exit(1);
}
await import(entry.href);
