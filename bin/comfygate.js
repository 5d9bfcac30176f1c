#!/usr/bin/env node
import { existsSync } from 'node:fs';

const entry = new URL('../dist/server/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'comfygate: not built yet; run `npm install` (or `npm run build`) in the ComfyGate folder first\n'
  );
  process.exit(1);
}
await import(entry.href);
