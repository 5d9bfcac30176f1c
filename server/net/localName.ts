import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { isLoopbackHost } from './shareAddress.js';

/** mDNS answers on a LAN within a few hundred milliseconds; a slower one is as good as none for a link. */
const LOOKUP_TIMEOUT_MS = 1_500;

/**
 * This machine's `<hostname>.local` name when it resolves (Bonjour/Avahi) to a non-loopback
 * address, so a share link survives the DHCP lease changing; null otherwise. Never throws.
 */
export async function resolveLocalName(name: string = hostname()): Promise<string | null> {
  const bare = name.replace(/\.local\.?$/i, '');
  if (!/^[a-z0-9-]{1,63}$/i.test(bare)) return null;
  const candidate = `${bare}.local`;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), LOOKUP_TIMEOUT_MS);
    timer.unref();
  });
  try {
    const found = await Promise.race([lookup(candidate, { family: 4 }).catch(() => null), timeout]);
    return found && !isLoopbackHost(found.address) ? candidate : null;
  } finally {
    clearTimeout(timer);
  }
}
