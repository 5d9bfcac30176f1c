import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';

export type TokenKind = 'session' | 'access';

export interface TokenClaims {
  /** The key id the token speaks for. */
  keyId: string;
  /** A fingerprint of the key's current secret: rotating the key invalidates its tokens. */
  keyVersion: string;
  jti: string;
  kind: TokenKind;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

const claimsSchema = z.object({
  sub: z.string().min(1),
  kv: z.string().min(1),
  jti: z.string().min(1),
  typ: z.enum(['session', 'access']),
  exp: z.number().int(),
});

const ISSUER = 'comfygate';
/** Verified tokens are remembered so the hot path does one HMAC per token, not per request. */
const CACHE_LIMIT = 2_000;

/**
 * Signs and checks the gate's JWTs (HS256 only: `algorithms` is pinned, so a token cannot pick
 * its own). Sessions sit in the login cookie; access tokens are short-lived stand-ins for a key.
 */
export class SessionTokens {
  readonly #secret: Buffer;
  readonly #cache = new Map<string, TokenClaims>();
  /** Logged-out tokens until they expire anyway. */
  readonly #revoked = new Map<string, number>();

  constructor(secret: Buffer) {
    this.#secret = secret;
  }

  sign(kind: TokenKind, keyId: string, keyVersion: string, ttlSeconds: number): { token: string; claims: TokenClaims } {
    const jti = randomUUID();
    const token = jwt.sign({ kv: keyVersion, typ: kind }, this.#secret, {
      algorithm: 'HS256',
      subject: keyId,
      jwtid: jti,
      issuer: ISSUER,
      expiresIn: ttlSeconds,
    });
    const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
    return { token, claims: { keyId, keyVersion, jti, kind, exp } };
  }

  /** The claims of a valid, unexpired, not logged-out token; undefined otherwise. */
  verify(token: string, nowMs = Date.now()): TokenClaims | undefined {
    let claims = this.#cache.get(token);
    if (!claims) {
      claims = this.#verifySignature(token);
      if (!claims) return undefined;
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(token, claims);
    }
    if (claims.exp * 1000 <= nowMs) {
      this.#cache.delete(token);
      return undefined;
    }
    if (this.#revoked.size > 0 && this.#revoked.has(claims.jti)) return undefined;
    return claims;
  }

  revoke(claims: TokenClaims): void {
    const now = Date.now();
    for (const [jti, exp] of this.#revoked) if (exp * 1000 <= now) this.#revoked.delete(jti);
    this.#revoked.set(claims.jti, claims.exp);
  }

  #verifySignature(token: string): TokenClaims | undefined {
    try {
      const payload = jwt.verify(token, this.#secret, { algorithms: ['HS256'], issuer: ISSUER });
      const parsed = claimsSchema.safeParse(payload);
      if (!parsed.success) return undefined;
      const { sub, kv, jti, typ, exp } = parsed.data;
      return { keyId: sub, keyVersion: kv, jti, kind: typ, exp };
    } catch {
      return undefined;
    }
  }
}

/** Cheap shape test so that only JWT-looking strings are handed to jsonwebtoken. */
export function looksLikeJwt(value: string): boolean {
  return value.startsWith('eyJ') && value.split('.', 4).length === 3;
}
