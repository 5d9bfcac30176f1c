import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { TokenClaims, TokenKind } from '../pipeline/principal.js';

/** Where single signed-out tokens are remembered (signedOutSessions.ts keeps them on disk). */
export interface SignOutList {
  has(jti: string): boolean;
  /** Resolves once the sign-out will survive a restart. */
  add(jti: string, exp: number): Promise<void>;
}

const claimsSchema = z.object({
  sub: z.string().min(1),
  kv: z.string().min(1),
  jti: z.string().min(1),
  typ: z.enum(['session', 'access']),
  iat: z.number().int(),
  /** `iat` in ms: two sessions of the same second must be told apart from a sign-out between them. */
  ims: z.number().int().optional(),
  exp: z.number().int(),
});

const ISSUER = 'comfygate';
/**
 * Verified tokens are remembered so the hot path does one HMAC and one claims parse per token, not per request: a
 * browser's page load sends its session cookie with hundreds of requests. Least recently used go first.
 */
export const TOKEN_CACHE_LIMIT = 2_000;

/**
 * Signs and checks the gate's JWTs (HS256 only: `algorithms` is pinned, so a token cannot pick
 * its own). Sessions sit in the login cookie; access tokens are short-lived stand-ins for a key.
 */
export class SessionTokens {
  readonly #secret: Buffer;
  /** Token → its verified claims, in the order of last use (a Map iterates in insertion order). */
  readonly #cache = new Map<string, TokenClaims>();
  readonly #cacheLimit: number;
  readonly #signedOut: SignOutList;

  constructor(secret: Buffer, signedOut: SignOutList, cacheLimit = TOKEN_CACHE_LIMIT) {
    this.#secret = secret;
    this.#signedOut = signedOut;
    this.#cacheLimit = cacheLimit;
  }

  sign(kind: TokenKind, keyId: string, keyVersion: string, ttlSeconds: number): { token: string; claims: TokenClaims } {
    const jti = randomUUID();
    const issuedAtMs = Date.now();
    const iat = Math.floor(issuedAtMs / 1000);
    // `iat` given, so that jsonwebtoken's expiry counts from the same second as ours.
    const token = jwt.sign({ kv: keyVersion, typ: kind, iat, ims: issuedAtMs }, this.#secret, {
      algorithm: 'HS256',
      subject: keyId,
      jwtid: jti,
      issuer: ISSUER,
      expiresIn: ttlSeconds,
    });
    const exp = iat + ttlSeconds;
    return { token, claims: { keyId, keyVersion, jti, kind, issuedAtMs, exp } };
  }

  /**
   * The claims of a valid, unexpired, not logged-out token; undefined otherwise. Expiry and sign-out are checked on
   * every call, cached or not, so both take effect at once (a session ended for its whole key is the
   * authenticator's check, against the key store).
   */
  verify(token: string, nowMs = Date.now()): TokenClaims | undefined {
    let claims = this.#cache.get(token);
    if (claims) {
      this.#cache.delete(token);
    } else {
      claims = this.#verifySignature(token);
      if (!claims) return undefined;
      if (this.#cache.size >= this.#cacheLimit) this.#forgetLeastRecent();
    }
    if (claims.exp * 1000 <= nowMs) return undefined;
    this.#cache.set(token, claims);
    if (this.#signedOut.has(claims.jti)) return undefined;
    return claims;
  }

  /** Ends one token for good: refused at once, and on disk (so after any restart) before this resolves. */
  revoke(claims: TokenClaims): Promise<void> {
    return this.#signedOut.add(claims.jti, claims.exp);
  }

  #forgetLeastRecent(): void {
    for (const oldest of this.#cache.keys()) {
      this.#cache.delete(oldest);
      return;
    }
  }

  #verifySignature(token: string): TokenClaims | undefined {
    try {
      const payload = jwt.verify(token, this.#secret, { algorithms: ['HS256'], issuer: ISSUER });
      const parsed = claimsSchema.safeParse(payload);
      if (!parsed.success) return undefined;
      const { sub, kv, jti, typ, iat, ims, exp } = parsed.data;
      // Tokens from before `ims` existed count from the start of their second: ended a little early, never late.
      return { keyId: sub, keyVersion: kv, jti, kind: typ, issuedAtMs: ims ?? iat * 1000, exp };
    } catch {
      return undefined;
    }
  }
}

/** Cheap shape test so that only JWT-looking strings are handed to jsonwebtoken. */
export function looksLikeJwt(value: string): boolean {
  if (!value.startsWith('eyJ')) return false;
  // Exactly two dots, found without splitting: a session cookie is checked on every request of a page load.
  const first = value.indexOf('.');
  const second = first === -1 ? -1 : value.indexOf('.', first + 1);
  return second !== -1 && value.indexOf('.', second + 1) === -1;
}
