import { SECURE_SESSION_COOKIE, SESSION_COOKIE } from '../pipeline/credentials.js';

/** How long a sign-in lasts, in the cookie's Max-Age and the session token's expiry alike. */
export const SESSION_TTL_SECONDS = 7 * 24 * 3600;

/**
 * HttpOnly so page scripts (ComfyUI custom nodes run JS on this origin) cannot read it; SameSite=Lax
 * so other sites cannot ride it on POSTs; Secure and the `__Host-` prefix under TLS.
 */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  const name = secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
  return `${name}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  const name = secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
  return `${name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? '; Secure' : ''}`;
}
