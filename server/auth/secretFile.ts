import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../appLog/logger.js';
import { writeAtomically } from '../store/atomicWrite.js';
import { acquireLock, errnoCode } from '../store/fileLock.js';

export const SECRET_FILE = 'jwt-secret';
const SECRET_BYTES = 32;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

type Found = { kind: 'usable'; secret: Buffer } | { kind: 'missing' } | { kind: 'unusable'; reason: string };

/**
 * The HMAC secret for session and access tokens: 32 random bytes in `jwt-secret` (mode 0600), made on first start.
 * Deleting the file logs every browser out. A file that is there but holds no usable secret (what a crash in the
 * middle of an older first start left) is replaced, with a warning: tokens signed with it end.
 */
export async function loadOrCreateSecret(dataDir: string, logger: Logger): Promise<Buffer> {
  const file = join(dataDir, SECRET_FILE);
  const found = await readSecret(file);
  if (found.kind === 'usable') {
    if (process.platform !== 'win32') await chmod(file, 0o600);
    return found.secret;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // Decided under the lock, so that processes starting at once end up with one secret, not one each.
  const lock = await acquireLock(file);
  try {
    const now = await readSecret(file);
    if (now.kind === 'usable') return now.secret;
    const secret = randomBytes(SECRET_BYTES);
    await writeAtomically(file, secret.toString('base64url') + '\n', lock);
    if (now.kind === 'unusable') {
      logger.warn(
        { file },
        `${file} was ${now.reason}; replaced it with a new one: sessions and access tokens signed with the old one have ended`
      );
    }
    return secret;
  } finally {
    await lock.release();
  }
}

async function readSecret(file: string): Promise<Found> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
  if (text === '') return { kind: 'unusable', reason: 'empty' };
  if (!BASE64URL.test(text)) return { kind: 'unusable', reason: 'not base64url text' };
  const secret = Buffer.from(text, 'base64url');
  if (secret.length < SECRET_BYTES) {
    return { kind: 'unusable', reason: `too short (${secret.length} bytes, at least ${SECRET_BYTES} needed)` };
  }
  return { kind: 'usable', secret };
}
