import { lanAddresses, type Interfaces } from '../net/shareAddress.js';

/** The names a certificate for this gate must cover, so every address a teammate or this computer uses matches. */
export interface CertificateNames {
  dns: string[];
  ips: string[];
}

/**
 * localhost and loopback for this computer's own windows and the CLI; the host name and its `.local` name;
 * every LAN address (VPN ones included: a teammate may come over Tailscale).
 */
export function certificateNames(interfaces: Interfaces, hostname: string): CertificateNames {
  const host = hostname
    .trim()
    .toLowerCase()
    .replace(/\.local$/, '');
  const dns = ['localhost'];
  if (host !== '' && host !== 'localhost') dns.push(host, `${host}.local`);
  return { dns, ips: ['127.0.0.1', '::1', ...lanAddresses(interfaces)] };
}
