import { BlockList, isIP } from 'node:net';
import { parseProxyEntry } from '../settings/proxyEntry.js';

/**
 * The peers whose X-Forwarded-* and Forwarded headers the gate believes. The list is parsed once per settings
 * change; a request costs one string comparison while it comes from the same peer as the one before (the usual case
 * behind a proxy), otherwise one BlockList lookup. Empty means nobody is trusted, and costs nothing.
 */
export class TrustedProxies {
  #list: BlockList | null = null;
  #lastAddress = '';
  #lastTrusted = false;

  constructor(entries: readonly string[]) {
    this.configure(entries);
  }

  configure(entries: readonly string[]): void {
    let list: BlockList | null = null;
    for (const text of entries) {
      const entry = parseProxyEntry(text.trim());
      if (!entry) continue;
      list ??= new BlockList();
      if (entry.prefix === undefined) list.addAddress(entry.address, entry.family);
      else list.addSubnet(entry.address, entry.prefix, entry.family);
    }
    this.#list = list;
    this.#lastAddress = '';
    this.#lastTrusted = false;
  }

  get enabled(): boolean {
    return this.#list !== null;
  }

  /** True when the socket's remote address is a configured proxy. */
  trustsPeer(address: string): boolean {
    if (this.#list === null) return false;
    if (address !== this.#lastAddress) {
      this.#lastTrusted = this.trusts(address);
      this.#lastAddress = address;
    }
    return this.#lastTrusted;
  }

  /** True when `address` (for instance an entry of X-Forwarded-For) is a configured proxy. */
  trusts(address: string): boolean {
    const list = this.#list;
    if (list === null) return false;
    const version = isIP(address);
    return version !== 0 && list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }
}
