import type { NetworkInterfaceInfo } from 'node:os';

/** What `os.networkInterfaces()` returns. */
export type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** Where teammates reach the gate: the one answer every screen, banner and hint shows. */
export interface ShareAddress {
  /** The primary link: what the share card, its QR code and "Copy share URL" carry. */
  url: string;
  /** Every link teammates may use, primary first (other LAN addresses, then the `.local` name). */
  urls: string[];
  /** False while the gate listens only on this computer, or no network is up. */
  reachableFromLan: boolean;
  /** Why teammates may not get through at `url`, in plain words; null when they should. */
  note: string | null;
}

/** Interfaces of containers, VMs and VPN tunnels: teammates are rarely on the other side of them. */
const VIRTUAL_INTERFACE =
  /^(docker|br-|veth|virbr|vmnet|vboxnet|utun|tun|tap|zt|tailscale|wg)|vEthernet|VirtualBox|VMware/i;
/** Host-only bridges of containers and VMs: no other machine can ever reach them (VPNs they can). */
const HOST_ONLY_BRIDGE = /^(docker|br-|veth|virbr|vmnet|vboxnet)|vEthernet|VirtualBox|VMware/i;

/**
 * This machine's IPv4 addresses a teammate could use, best first: private LAN ranges on physical
 * interfaces (192.168/16, then 10/8 and 172.16/12), then other non-internal addresses. Link-local
 * addresses (169.254/16) are never offered.
 */
export function lanAddresses(interfaces: Interfaces, { withBridges = true } = {}): string[] {
  const candidates: Array<{ address: string; score: number; order: number }> = [];
  for (const [name, infos] of Object.entries(interfaces)) {
    if (!withBridges && HOST_ONLY_BRIDGE.test(name)) continue;
    for (const info of infos ?? []) {
      if (info.family !== 'IPv4' || info.internal || info.address.startsWith('169.254.')) continue;
      const score = rangeScore(info.address) - (VIRTUAL_INTERFACE.test(name) ? 10 : 0);
      candidates.push({ address: info.address, score, order: candidates.length });
    }
  }
  return candidates.sort((a, b) => b.score - a.score || a.order - b.order).map((c) => c.address);
}

/** The address to put in a share URL, or null when no network is up. */
export function pickLanAddress(interfaces: Interfaces): string | null {
  return lanAddresses(interfaces)[0] ?? null;
}

function rangeScore(address: string): number {
  const [a = 0, b = 0] = address.split('.').map(Number);
  if (a === 192 && b === 168) return 3;
  if (a === 10 || (a === 172 && b >= 16 && b <= 31)) return 2;
  return 1;
}

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || bare.startsWith('127.');
}

export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]' || host === '';
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Says that the link works on this computer only; the screens showing it offer the switch beside it. */
export const THIS_COMPUTER_ONLY =
  'This link works on this computer only: the gate listens only here. Switch sharing to "My network" so teammates can connect.';

/**
 * The URLs teammates open, from where the gate listens: this machine's LAN addresses (and its
 * `.local` name where it resolves) when it listens on every interface, the address itself when it
 * listens on one, and a loopback link marked as this-computer-only when it listens on loopback.
 */
export function shareAddress(
  listen: { host: string; port: number },
  interfaces: Interfaces,
  localName: string | null = null,
  scheme: 'http' | 'https' = 'http'
): ShareAddress {
  const link = (host: string): string => `${scheme}://${formatHost(host)}:${listen.port}/`;
  if (isLoopbackHost(listen.host)) {
    const url = link(listen.host === 'localhost' ? '127.0.0.1' : listen.host);
    return { url, urls: [url], reachableFromLan: false, note: THIS_COMPUTER_ONLY };
  }
  if (isWildcardHost(listen.host)) {
    const lan = lanAddresses(interfaces, { withBridges: false });
    if (lan.length === 0) {
      const url = link('127.0.0.1');
      return { url, urls: [url], reachableFromLan: false, note: 'This computer is not connected to a network.' };
    }
    const urls = lan.map(link);
    if (localName !== null) urls.push(link(localName));
    return { url: link(lan[0] ?? '127.0.0.1'), urls, reachableFromLan: true, note: null };
  }
  const url = link(listen.host);
  return { url, urls: [url], reachableFromLan: true, note: null };
}

/**
 * The gate's URL as this computer's own windows and the CLI load it: a gate listening on every
 * interface is still opened through loopback (a loopback Host is what the admin API expects from
 * this machine).
 */
export function localGateUrl(listen: { host: string; port: number }, scheme: 'http' | 'https' = 'http'): string {
  if (isWildcardHost(listen.host))
    return `${scheme}://${listen.host.includes(':') ? '[::1]' : '127.0.0.1'}:${listen.port}`;
  return `${scheme}://${formatHost(listen.host)}:${listen.port}`;
}
