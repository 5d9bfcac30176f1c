export type NormalizedPath = { ok: true; path: string } | { ok: false; reason: string };

const HEX = '0123456789abcdefABCDEF';

/**
 * The path as ComfyUI's router (aiohttp) will see it, for deciding what a request may do:
 * percent-decoded except `%2F` and `%25` (aiohttp keeps those), one leading `/api` removed (every
 * route is mirrored there). Shapes aiohttp would read differently from us are refused, not guessed:
 * `..` or `.` segments, empty segments, leftover double encoding, NUL and broken escapes.
 * The request itself is still forwarded with its raw path.
 */
export function normalizePath(rawUrl: string): NormalizedPath {
  const queryStart = rawUrl.indexOf('?');
  const raw = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
  const decoded = raw.includes('%') ? decodeKeepingSlashes(raw) : raw;
  if (decoded === undefined) return { ok: false, reason: 'malformed percent-encoding in the path' };
  if (decoded.includes('\0')) return { ok: false, reason: 'NUL in the path' };
  if (/%25[0-9a-fA-F]{2}/.test(decoded)) return { ok: false, reason: 'double percent-encoding in the path' };

  const segments = decoded.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '..' || segment === '.') return { ok: false, reason: 'dot segments in the path' };
    if (segment === '' && i < segments.length - 1) return { ok: false, reason: 'empty segment (//) in the path' };
  }
  if (decoded === '/api' || decoded.startsWith('/api/')) return { ok: true, path: decoded.slice(4) || '/' };
  return { ok: true, path: decoded };
}

function decodeKeepingSlashes(raw: string): string | undefined {
  let out = '';
  let i = 0;
  const bytes: number[] = [];
  const flush = (): boolean => {
    if (bytes.length === 0) return true;
    try {
      out += new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
    } catch {
      return false;
    }
    bytes.length = 0;
    return true;
  };
  while (i < raw.length) {
    const ch = raw[i]!;
    if (ch !== '%') {
      if (!flush()) return undefined;
      out += ch;
      i++;
      continue;
    }
    const hi = raw[i + 1];
    const lo = raw[i + 2];
    if (hi === undefined || lo === undefined || !HEX.includes(hi) || !HEX.includes(lo)) return undefined;
    const byte = parseInt(hi + lo, 16);
    if (byte === 0x2f || byte === 0x25) {
      if (!flush()) return undefined;
      out += '%' + (byte === 0x2f ? '2F' : '25');
    } else {
      bytes.push(byte);
    }
    i += 3;
  }
  return flush() ? out : undefined;
}

/**
 * Public paths from settings: an exact path (`/`), or a prefix ending in `*` (`/extensions/*`).
 * Matched against the normalized path, so `/api/x` and `/x` are the same route.
 */
export function matchesPublicPath(path: string, patterns: readonly string[]): boolean {
  for (const pattern of patterns) {
    if (pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern) return true;
  }
  return false;
}
