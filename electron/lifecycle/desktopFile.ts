import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** The desktop app's own small state, next to the gate's files in the data dir. */
export const DESKTOP_FILE = 'desktop.json';

const desktopFileSchema = z.object({
  version: z.literal(1).default(1),
  /** The first-run questions (where is ComfyUI, a first teammate key) were asked. */
  firstRunDone: z.boolean().default(false),
});
export type DesktopFile = z.infer<typeof desktopFileSchema>;

/** A missing or unreadable file is a first run: the questions are asked again rather than failing. */
export async function readDesktopFile(dataDir: string): Promise<DesktopFile> {
  try {
    const parsed = desktopFileSchema.safeParse(JSON.parse(await readFile(join(dataDir, DESKTOP_FILE), 'utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // missing or not JSON
  }
  return desktopFileSchema.parse({});
}

/** Atomic: written to a temporary file, then renamed over the old one. */
export async function writeDesktopFile(dataDir: string, data: DesktopFile): Promise<void> {
  const file = join(dataDir, DESKTOP_FILE);
  await writeFile(`${file}.tmp`, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}
