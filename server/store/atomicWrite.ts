import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode, sleep } from './fileLock.js';

const FILE_MODE = 0o600;
const isWindows = process.platform === 'win32';

/** `<file>.tmp-<pid>-<hex>`: the pid lets a later start tell a crashed writer's leftover from a live one's. */
export const TEMP_FILE_PATTERN = /\.tmp-(\d+)-[0-9a-f]+$/;

export function tempPathFor(file: string): string {
  return `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

export interface WriteGuard {
  /** Set when the lock this write relies on was lost; the rename is then refused. */
  compromised?: Error | undefined;
}

/**
 * Replaces `file` with `text` (mode 0600) so that a reader or a crash sees the old or the new content, never a mix:
 * temp file in the same folder, fsync, rename, fsync of the folder.
 */
export async function writeAtomically(file: string, text: string, guard: WriteGuard = {}): Promise<void> {
  const temp = await writeSyncedTemp(file, text);
  try {
    if (guard.compromised) throw new Error(`lost the lock on ${file}: ${guard.compromised.message}`);
    await renameOver(temp, file);
  } catch (error) {
    await unlink(temp).catch(noop);
    throw error;
  }
  await syncDir(dirname(file));
}

/** Writes `text` to a new temp file next to `file`, on disk before it resolves. */
async function writeSyncedTemp(file: string, text: string): Promise<string> {
  const temp = tempPathFor(file);
  try {
    const handle = await open(temp, 'wx', FILE_MODE);
    try {
      // The umask can only narrow the mode given to open(); this pins it to exactly 0600.
      if (!isWindows) await handle.chmod(FILE_MODE);
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await unlink(temp).catch(noop);
    throw error;
  }
  return temp;
}

async function renameOver(from: string, to: string): Promise<void> {
  // Windows refuses to replace a file another process is reading at that instant; the reader is done within ms.
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (error) {
      const code = errnoCode(error);
      if (!isWindows || attempt >= 20 || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) throw error;
      await sleep(25);
    }
  }
}

/** Makes the rename itself durable; without it a power cut can bring back the old file. */
export async function syncDir(dir: string): Promise<void> {
  if (isWindows) return;
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems cannot fsync a folder; the data itself is already synced.
  }
}

function noop(): void {}
