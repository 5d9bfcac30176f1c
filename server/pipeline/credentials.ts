import type { IncomingMessage } from 'node:http';
import type { CredentialSource } from './principal.js';

/** The gate's session cookie; the `__Host-` prefix is used under TLS (see sessionCookie.ts). */
export const SESSION_COOKIE = 'comfygate_session';
export const SECURE_SESSION_COOKIE = '__Host-comfygate_session';

export interface Credential {
  source: CredentialSource;
  value: string;
}

/**
 * Finds the caller's credential in the order of DESIGN.md: X-API-Key, Authorization: Bearer,
 * ?token=, then the session cookie. Only the first one found counts: a wrong key in a header is
 * not rescued by a valid cookie.
 */
export function findCredential(req: IncomingMessage): Credential | undefined {
  const headers = req.headers;
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return { source: 'header', value: apiKey.trim() };

  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return { source: 'bearer', value: match?.[1] ?? '' };
  }

  const url = req.url ?? '';
  const queryStart = url.indexOf('?');
  if (queryStart !== -1 && url.includes('token=', queryStart)) {
    const token = readTokenParam(url.slice(queryStart + 1));
    if (token !== undefined) return { source: 'query', value: token };
  }

  const cookie = headers.cookie;
  if (cookie !== undefined) {
    const session = readCookie(cookie, SECURE_SESSION_COOKIE) ?? readCookie(cookie, SESSION_COOKIE);
    if (session !== undefined) return { source: 'cookie', value: session };
  }
  return undefined;
}

/** Only a literal `token=` pair counts, the same pairs `withoutTokenParam` removes. */
function readTokenParam(query: string): string | undefined {
  for (const pair of query.split('&')) {
    if (!pair.startsWith('token=')) continue;
    try {
      return decodeURIComponent(pair.slice(6).replace(/\+/g, ' '));
    } catch {
      return '';
    }
  }
  return undefined;
}

/** Reads one cookie without parsing the whole header into an object. */
export function readCookie(header: string, name: string): string | undefined {
  let from = 0;
  while (from < header.length) {
    const at = header.indexOf(name, from);
    if (at === -1) return undefined;
    const before = at === 0 ? ';' : header[at - 1];
    const end = at + name.length;
    if ((before === ';' || before === ' ') && header[end] === '=') {
      const stop = header.indexOf(';', end + 1);
      return header.slice(end + 1, stop === -1 ? undefined : stop).trim();
    }
    from = end;
  }
  return undefined;
}

/** The Cookie header without the gate's cookies, or undefined when nothing else is left. */
export function withoutGateCookies(header: string): string | undefined {
  if (!header.includes(SESSION_COOKIE)) return header;
  const kept = header
    .split(';')
    .map((part) => part.trim())
    .filter(
      (part) => part !== '' && !part.startsWith(SESSION_COOKIE + '=') && !part.startsWith(SECURE_SESSION_COOKIE + '=')
    );
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/** The request target without `token` query parameters; everything else stays byte for byte. */
export function withoutTokenParam(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1 || !url.includes('token=', queryStart)) return url;
  const kept = url
    .slice(queryStart + 1)
    .split('&')
    .filter((pair) => pair !== 'token' && !pair.startsWith('token='));
  return kept.length > 0 ? `${url.slice(0, queryStart)}?${kept.join('&')}` : url.slice(0, queryStart);
}
