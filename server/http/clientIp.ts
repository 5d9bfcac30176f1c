import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ForwardedView } from './forwardedView.js';

/**
 * What the gate believes about a request to its own pages and API: what a trusted proxy said (see
 * forwardedHeaders.ts), remembered per request by the gate server, or else what the socket shows. The proxy's hot
 * path keeps the same facts on its Exchange instead.
 */
const believed = new WeakMap<IncomingMessage, ForwardedView>();

export function rememberForwarded(req: IncomingMessage, view: ForwardedView): void {
  believed.set(req, view);
}

/** The socket's remote address, IPv4-mapped addresses as plain IPv4. */
export function peerAddressOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** The client's address: the peer's, unless the peer is a trusted proxy that named the client. */
export function clientIpOf(req: IncomingMessage): string {
  return believed.get(req)?.clientIp ?? peerAddressOf(req);
}

/** The browser used https: to the gate itself (HTTPS on), or to a trusted proxy in front of it. */
export function isHttps(req: IncomingMessage): boolean {
  return believed.get(req)?.secure ?? (req.socket as Partial<TLSSocket>).encrypted === true;
}

/** The host the browser addressed, as a trusted proxy named it; null when none did. */
export function forwardedHostOf(req: IncomingMessage): string | null {
  return believed.get(req)?.host ?? null;
}
