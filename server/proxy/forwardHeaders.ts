import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { withoutGateCookies } from '../pipeline/credentials.js';

/**
 * Request headers that never reach ComfyUI: hop-by-hop ones (RFC 9110 §7.6.1), the ones the gate
 * sets itself, the gate's credentials, and browser headers that would trip ComfyUI's origin check
 * once the gate has done it. The gate's session cookie is cut out of Cookie separately.
 */
const DROPPED_REQUEST_HEADERS = new Set([
  'x-api-key',
  'authorization',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
  'origin',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
]);

/** Headers the WebSocket client library negotiates anew on the upstream handshake. */
const DROPPED_UPGRADE_HEADERS = new Set([
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
]);

const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function connectionTokens(headers: IncomingHttpHeaders): Set<string> | undefined {
  const value = headers.connection;
  if (!value) return undefined;
  let tokens: Set<string> | undefined;
  for (const token of value.toLowerCase().split(',')) {
    const name = token.trim();
    if (name && name !== 'close' && name !== 'keep-alive' && name !== 'upgrade') (tokens ??= new Set()).add(name);
  }
  return tokens;
}

function keepRequestHeader(name: string, extra: Set<string> | undefined): boolean {
  return !DROPPED_REQUEST_HEADERS.has(name) && !name.startsWith('sec-fetch-') && !extra?.has(name);
}

/**
 * A flat [name, value, …] list for undici; incoming X-Forwarded-* are replaced, never trusted.
 * `bodyLength` is given when the gate rewrote the body: its length replaces the client's framing.
 */
export function upstreamRequestHeaders(
  req: IncomingMessage,
  clientIp: string,
  secure: boolean,
  bodyLength?: number
): string[] {
  const headers = req.headers;
  const extra = connectionTokens(headers);
  const out: string[] = [];
  for (const name in headers) {
    if (!keepRequestHeader(name, extra)) continue;
    if (bodyLength !== undefined && name === 'content-length') continue;
    const value = name === 'cookie' ? withoutGateCookies(headers.cookie!) : headers[name];
    if (typeof value === 'string') out.push(name, value);
    else if (value) for (const item of value) out.push(name, item);
  }
  out.push(
    'x-forwarded-for',
    clientIp,
    'x-forwarded-proto',
    secure ? 'https' : 'http',
    'x-forwarded-host',
    headers.host ?? ''
  );
  if (bodyLength !== undefined) out.push('content-length', String(bodyLength));
  return out;
}

/** Headers for the upstream WebSocket handshake (the `ws` client adds its own Sec-WebSocket-*). */
export function upstreamUpgradeHeaders(
  req: IncomingMessage,
  clientIp: string,
  secure: boolean
): Record<string, string> {
  const headers = req.headers;
  const extra = connectionTokens(headers);
  const out: Record<string, string> = {};
  for (const name in headers) {
    if (!keepRequestHeader(name, extra) || DROPPED_UPGRADE_HEADERS.has(name)) continue;
    const value = name === 'cookie' ? withoutGateCookies(headers.cookie!) : headers[name];
    if (value !== undefined) out[name] = typeof value === 'string' ? value : value.join(', ');
  }
  out['x-forwarded-for'] = clientIp;
  out['x-forwarded-proto'] = secure ? 'https' : 'http';
  out['x-forwarded-host'] = headers.host ?? '';
  return out;
}

/**
 * ComfyUI's response headers for the client, minus hop-by-hop ones. `nosniff` is added because the
 * gate's session lives on this origin and ComfyUI serves uploaded files by guessed type.
 */
export function clientResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (!DROPPED_RESPONSE_HEADERS.has(name)) out[name] = headers[name];
  }
  out['x-content-type-options'] = 'nosniff';
  return out;
}
