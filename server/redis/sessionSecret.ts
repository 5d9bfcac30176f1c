import type { RedisLink } from './redisLink.js';

const SECRET_KEY = 'comfygate:session-secret';

/**
 * Sessions signed by one replica must verify on every other, so the replicas sign with one secret: the first gate to
 * reach Redis puts its own there, and every gate uses the one Redis holds. With Redis away at start, the local secret
 * serves until the next start (sessions signed meanwhile work on this replica only).
 */
export async function sharedSessionSecret(link: RedisLink, local: Buffer): Promise<Buffer> {
  if (!link.online) return local;
  try {
    await link.commands.set(SECRET_KEY, local.toString('base64'), { condition: 'NX' });
    const stored = await link.commands.get(SECRET_KEY);
    const secret = stored === null ? local : Buffer.from(stored, 'base64');
    return secret.length >= 32 ? secret : local;
  } catch {
    return local;
  }
}
