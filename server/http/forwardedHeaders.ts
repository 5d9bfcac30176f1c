import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { peerAddressOf } from './clientIp.js';
import type { ForwardedView } from './forwardedView.js';
import type { TrustedProxies } from './trustedProxies.js';

/**
 * What a request's proxy headers say, when its peer is a trusted proxy; undefined otherwise, so that nobody else
 * can choose their address, scheme or host. X-Forwarded-* win over Forwarded (RFC 7239) field by field.
 */
export function forwardedFrom(req: IncomingMessage, proxies: TrustedProxies): ForwardedView | undefined {
  const peer = peerAddressOf(req);
  if (!proxies.trustsPeer(peer)) return undefined;
  const headers = req.headers;
  const rfc = typeof headers.forwarded === 'string' ? parseForwarded(headers.forwarded) : undefined;
  const xff = headers['x-forwarded-for'];
  const chain = typeof xff === 'string' ? xff.split(',') : (rfc?.for ?? []);
  const proto = firstValue(headers, 'x-forwarded-proto') ?? rfc?.proto;
  const host = firstValue(headers, 'x-forwarded-host') ?? rfc?.host;
  return {
    clientIp: clientFromChain(chain, peer, proxies),
    secure: proto !== undefined && (proto.toLowerCase() === 'https' || proto.toLowerCase() === 'wss'),
    host: host !== undefined && HOST.test(host) ? host : null,
  };
}

/** A DNS name or address with an optional port: anything else is not a host a browser could have addressed. */
const HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

function firstValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (typeof value !== 'string') return undefined;
  const comma = value.indexOf(',');
  const first = (comma === -1 ? value : value.slice(0, comma)).trim();
  return first === '' ? undefined : first;
}

/**
 * Proxies append the address they saw, so the chain is read from the right: the trusted proxies' own entries are
 * skipped and the first other address is the client. Entries further left were written by the client and are
 * never believed. An entry that is no address (`unknown`, an obfuscated name) ends the walk at the last proxy.
 */
function clientFromChain(chain: readonly string[], peer: string, proxies: TrustedProxies): string {
  let client = peer;
  for (let i = chain.length - 1; i >= 0; i--) {
    const address = plainAddress(chain[i]!);
    if (address === undefined) break;
    client = address;
    if (!proxies.trusts(address)) break;
  }
  return client;
}

/** `203.0.113.7`, `"[2001:db8::1]:4711"` or `192.0.2.43:47011` without quotes, brackets and port. */
function plainAddress(entry: string): string | undefined {
  let value = entry.trim();
  if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    value = end === -1 ? '' : value.slice(1, end);
  } else if (value.indexOf(':') !== -1 && value.indexOf(':') === value.lastIndexOf(':')) {
    value = value.slice(0, value.indexOf(':'));
  }
  if (isIP(value) === 0) return undefined;
  return value.startsWith('::ffff:') && isIP(value.slice(7)) === 4 ? value.slice(7) : value;
}

interface ForwardedFields {
  for: string[];
  proto: string | undefined;
  host: string | undefined;
}

/** RFC 7239: `for=…;proto=…;host=…, for=…`: every hop's `for`, and the first hop's `proto` and `host`. */
function parseForwarded(header: string): ForwardedFields {
  const fields: ForwardedFields = { for: [], proto: undefined, host: undefined };
  header.split(',').forEach((element, index) => {
    for (const pair of element.split(';')) {
      const equals = pair.indexOf('=');
      if (equals === -1) continue;
      const name = pair.slice(0, equals).trim().toLowerCase();
      let value = pair.slice(equals + 1).trim();
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
      if (name === 'for') fields.for.push(value);
      else if (index === 0 && name === 'proto') fields.proto = value;
      else if (index === 0 && name === 'host') fields.host = value;
    }
  });
  return fields;
}
