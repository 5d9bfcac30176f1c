import { readFileSync } from 'node:fs';
import { z } from 'zod';

const packageSchema = z.object({ name: z.literal('comfygate'), version: z.string().min(1) });

/**
 * The version in ComfyGate's package.json, found by walking up from this module: the same code
 * runs from server/ (tests, tsx) and from dist/server/ (the CLI and the app).
 */
function readVersion(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      const parsed = packageSchema.safeParse(JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')));
      if (parsed.success) return parsed.data.version;
    } catch {
      // No package.json here, or not ours: keep walking up.
    }
    if (dir.pathname === '/' || new URL('../', dir).href === dir.href) return '0.0.0-unknown';
  }
}

export const GATE_VERSION = readVersion();
