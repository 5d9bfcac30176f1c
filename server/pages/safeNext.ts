/**
 * Where to go after signing in: only a path on this origin. `//evil`, `/\evil`, schemes and control
 * characters would let a crafted login link send a fresh session elsewhere (open redirect).
 *
 * The check that counts is on the value returned: dot segments (`/.//evil`, `/gate/..//evil`,
 * `/%2e//evil`) only become `//evil` once resolved, and a browser reads that as another host.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > 2048) return '/';
  if (!isOwnPath(next)) return '/';
  try {
    const resolved = new URL(next, 'http://gate.invalid');
    if (resolved.origin !== 'http://gate.invalid') return '/';
    const target = resolved.pathname + resolved.search + resolved.hash;
    return isOwnPath(target) ? target : '/';
  } catch {
    return '/';
  }
}

/** A single leading slash, and nothing a browser would turn into one more (`\`, tab, newline). */
function isOwnPath(value: string): boolean {
  if (value.charCodeAt(0) !== 0x2f) return false;
  const second = value.charCodeAt(1);
  if (second === 0x2f || second === 0x5c) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return false;
  }
  return true;
}
