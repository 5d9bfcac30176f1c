import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The HMAC secret for session and access tokens: 32 random bytes in `jwt-secret` (mode 0600),
 * made on first start. Deleting the file logs every browser out.
 */
export async function loadOrCreateSecret(dataDir: string): Promise<Buffer> {
  const file = join(dataDir, 'jwt-secret');
  try {
    const existing = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
    if (existing.length >= 32) {
      await chmod(file, 0o600);
      return existing;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32);
  // `wx` loses a race with another process cleanly; re-read theirs then.
  try {
    await writeFile(file, secret.toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateSecret(dataDir);
    throw error;
  }
}
