import type { Limits, Role, Scope } from '../keys/keySchema.js';

export type CredentialSource = 'header' | 'bearer' | 'query' | 'cookie';

export type TokenKind = 'session' | 'access';

export interface TokenClaims {
  /** The key id the token speaks for. */
  keyId: string;
  /** A fingerprint of the key's current secret: rotating the key invalidates its tokens. */
  keyVersion: string;
  jti: string;
  kind: TokenKind;
  /** When it was signed, ms since the epoch: "sign out everywhere" ends the tokens of a key signed up to an instant. */
  issuedAtMs: number;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

/** Who a request speaks for, once a credential checked out (the auth step finds it, every later step reads it). */
export interface Principal {
  keyId: string;
  name: string;
  role: Role;
  scopes: readonly Scope[] | null;
  limits: Limits;
  via: CredentialSource;
  /** The session or access token the request came with, when it did not send the key itself. */
  token?: TokenClaims;
}
