import type { IncomingMessage } from 'node:http';

/** The peer address as the socket saw it: X-Forwarded-For is not trusted (no trusted proxy is configured). */
export function clientIpOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
