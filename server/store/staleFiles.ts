import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../appLog/logger.js';
import { TEMP_FILE_PATTERN } from './atomicWrite.js';
import { errnoCode, removeLockIfStale } from './fileLock.js';

/** A write lives for milliseconds; a temp file this old is a leftover even if its pid now belongs to someone else. */
const TEMP_MAX_AGE_MS = 60 * 60_000;
const LOCK_SUFFIX = '.lock';

/**
 * Removes what a process killed in the middle of a write left in `dir`: temp files of writers that are gone, and lock
 * folders no live process holds. Anything that may still be in use stays.
 */
export async function removeStaleFiles(dir: string, logger: Logger): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw error;
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const pid = entry.isFile() ? TEMP_FILE_PATTERN.exec(entry.name)?.[1] : undefined;
    try {
      if (pid !== undefined) {
        if (await isStaleTemp(path, Number(pid))) {
          await unlink(path).catch(ignoreMissing);
          removed.push(entry.name);
        }
      } else if (entry.isDirectory() && entry.name.endsWith(LOCK_SUFFIX)) {
        if (await removeLockIfStale(path.slice(0, -LOCK_SUFFIX.length))) removed.push(entry.name);
      }
    } catch (error) {
      // Tidying up must never keep the gate from starting (a `.lock` folder someone filled with files, say).
      logger.warn({ err: error, path }, `could not remove ${path}, which looks left over from a crash`);
    }
  }
  if (removed.length > 0) {
    logger.info(
      { dir, removed },
      `removed ${removed.length} leftover(s) of an interrupted write: ${removed.join(', ')}`
    );
  }
}

async function isStaleTemp(path: string, pid: number): Promise<boolean> {
  if (pid === process.pid) return false;
  if (!isRunning(pid)) return true;
  try {
    return Date.now() - (await stat(path)).mtimeMs > TEMP_MAX_AGE_MS;
  } catch (error) {
    ignoreMissing(error);
    return false;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return errnoCode(error) === 'EPERM';
  }
}

function ignoreMissing(error: unknown): void {
  if (errnoCode(error) !== 'ENOENT') throw error;
}
