import { isIP } from 'node:net';
import { z } from 'zod';

/** `203.0.113.7`, `10.0.0.0/8`, `::1` or `fd00::/8`: one proxy address or a range of them. */
export const trustedProxySchema = z
  .string()
  .trim()
  .max(64)
  .refine((entry) => parseProxyEntry(entry) !== undefined, {
    error: (issue) =>
      `trustProxy entry ${JSON.stringify(issue.input)} is not an IP address or CIDR range such as 127.0.0.1 or 10.0.0.0/8`,
  });

export interface ProxyEntry {
  address: string;
  family: 'ipv4' | 'ipv6';
  prefix: number | undefined;
}

/** One entry of `trustProxy`: an address, or a range when `prefix` is set. */
export function parseProxyEntry(entry: string): ProxyEntry | undefined {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (slash === -1) return { address, family, prefix: undefined };
  const bits = entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > (version === 4 ? 32 : 128)) return undefined;
  return { address, family, prefix: Number(bits) };
}
