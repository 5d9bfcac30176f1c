/**
 * Where to go after signing in: only a path on this origin. `//evil`, `/\evil`, schemes and control
 * characters would let a crafted login link send a fresh session elsewhere (open redirect).
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > 2048) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return '/';
  try {
    const resolved = new URL(next, 'http://gate.invalid');
    if (resolved.origin !== 'http://gate.invalid') return '/';
    return resolved.pathname + resolved.search + resolved.hash;
  } catch {
    return '/';
  }
}
