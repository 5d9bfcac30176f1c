import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from './fileLock.js';

/**
 * Keeps the bytes of an unusable data file next to it as `<name>.corrupt-<time>` (0600), so that neither a fix by hand
 * nor moving the file away can lose what was in it. The same content is kept once, however often it is read.
 * Resolves with the copy's file name, or undefined when none could be made (the caller's refusal is what matters).
 */
export async function keepCorruptCopy(file: string): Promise<string | undefined> {
  const dir = dirname(file);
  const prefix = `${basename(file)}.corrupt-`;
  try {
    // Its bytes, not the text it was parsed from: a file that is not UTF-8 is kept exactly as it is.
    const content = await readFile(file);
    for (const name of (await readdir(dir)).filter((entry) => entry.startsWith(prefix))) {
      const kept = await readFile(join(dir, name)).catch(() => undefined);
      if (kept?.equals(content)) return name;
    }
    const name = prefix + new Date().toISOString().replace(/[:.]/g, '-');
    try {
      await writeFile(join(dir, name), content, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process kept it in the same millisecond.
      if (errnoCode(error) !== 'EEXIST') throw error;
    }
    return name;
  } catch {
    return undefined;
  }
}
