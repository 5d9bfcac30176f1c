/**
 * Where to go after signing in: only a path on this origin. `//evil`, `/\evil`, schemes and control
 * characters would let a crafted login link send a fresh session elsewhere (open redirect).
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > 2048) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  for (let i = 0; i < next.length; i++) {
    const code = next.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return '/';
  }
  try {
    const resolved = new URL(next, 'http://gate.invalid');
    if (resolved.origin !== 'http://gate.invalid') return '/';
    return resolved.pathname + resolved.search + resolved.hash;
  } catch {
    return '/';
  }
}
