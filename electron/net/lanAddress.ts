import type { NetworkInterfaceInfo } from 'node:os';
import type { ShareAddress } from '../ipc/contract.js';

/** What `os.networkInterfaces()` returns. */
export type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** Interfaces of containers, VMs and VPN tunnels: teammates are rarely on the other side of them. */
const VIRTUAL_INTERFACE =
  /^(docker|br-|veth|virbr|vmnet|vboxnet|utun|tun|tap|zt|tailscale|wg)|vEthernet|VirtualBox|VMware/i;

/**
 * This machine's IPv4 addresses a teammate could use, best first: private LAN ranges on physical
 * interfaces (192.168/16, then 10/8 and 172.16/12), then other non-internal addresses. Link-local
 * addresses (169.254/16) are never offered.
 */
export function lanAddresses(interfaces: Interfaces): string[] {
  const candidates: Array<{ address: string; score: number; order: number }> = [];
  for (const [name, infos] of Object.entries(interfaces)) {
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

/**
 * The URL teammates open, from where the gate listens: the LAN address when it listens on every
 * interface (or only on loopback, with a note that nobody else can connect yet), the address
 * itself when it listens on one.
 */
export function shareAddress(listen: { host: string; port: number }, interfaces: Interfaces): ShareAddress {
  const lan = pickLanAddress(interfaces);
  if (isLoopbackHost(listen.host)) {
    return {
      url: `http://${lan ?? '127.0.0.1'}:${listen.port}/`,
      reachableFromLan: false,
      note: `The gate listens only on ${listen.host}: teammates cannot connect until you share it on your network (listen address 0.0.0.0 in Settings).`,
    };
  }
  if (isWildcardHost(listen.host)) {
    if (lan === null) {
      return {
        url: `http://127.0.0.1:${listen.port}/`,
        reachableFromLan: false,
        note: 'This computer is not connected to a network.',
      };
    }
    return { url: `http://${lan}:${listen.port}/`, reachableFromLan: true, note: null };
  }
  return { url: `http://${formatHost(listen.host)}:${listen.port}/`, reachableFromLan: true, note: null };
}

/**
 * The gate's URL as this computer's own windows load it: a gate listening on every interface is
 * still opened through loopback (a loopback Host is what the admin API expects from this machine).
 */
export function localGateUrl(listen: { host: string; port: number }): string {
  if (isWildcardHost(listen.host)) return `http://${listen.host.includes(':') ? '[::1]' : '127.0.0.1'}:${listen.port}`;
  return `http://${formatHost(listen.host)}:${listen.port}`;
}
