import * as fs from 'node:fs';
import lockfile from 'proper-lockfile';

/** A lock of a crashed process is taken over after this long; live holders refresh its mtime every half of it. */
export const LOCK_STALE_MS = 3_000;
const LOCK_WAIT_MS = 5_000;
const LOCK_DIR_MODE = 0o700;

export interface HeldLock {
  release(): Promise<void>;
  /** Set when another process took the lock over (we were stalled past LOCK_STALE_MS); writing would race it. */
  compromised: Error | undefined;
}

/** proper-lockfile makes its lock folder with the umask's mode (often 0755); ours are private like the data dir. */
const privateLockFs = {
  ...fs,
  mkdir: (path: string, callback: fs.NoParamCallback) => fs.mkdir(path, { mode: LOCK_DIR_MODE }, callback),
};

const lockOptions = {
  realpath: false,
  stale: LOCK_STALE_MS,
  retries: 0,
  fs: privateLockFs,
} as const;

/** The inter-process lock on `file` (a `<file>.lock` folder), waiting up to a few seconds for another holder. */
export async function acquireLock(file: string): Promise<HeldLock> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  const held: HeldLock = { release: () => Promise.resolve(), compromised: undefined };
  for (;;) {
    try {
      const release = await lockfile.lock(file, {
        ...lockOptions,
        onCompromised: (error: Error) => {
          held.compromised = error;
        },
      });
      // A compromised lock is gone already; releasing it again only reports that.
      held.release = () => release().catch(noop);
      return held;
    } catch (error) {
      if (errnoCode(error) !== 'ELOCKED') throw error;
      if (Date.now() >= deadline) {
        throw new Error(
          `timed out after ${LOCK_WAIT_MS / 1000} s waiting for the lock on ${file}; ` +
            `another ComfyGate process holds it (remove ${file}.lock if no such process is running)`
        );
      }
      // Jitter keeps contending processes from retrying in lockstep.
      await sleep(5 + Math.random() * 25);
    }
  }
}

/**
 * Removes `<file>.lock` only if no live process holds it: taking the lock goes through proper-lockfile's own stale
 * check (a holder refreshes the mtime), so a held lock is never touched. Resolves with whether it was removed.
 */
export async function removeLockIfStale(file: string): Promise<boolean> {
  try {
    const release = await lockfile.lock(file, { ...lockOptions, onCompromised: noop });
    await release();
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ELOCKED') return false;
    throw error;
  }
}

function noop(): void {}

export function errnoCode(error: unknown): string | undefined {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
