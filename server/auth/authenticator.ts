import { createHash, timingSafeEqual } from 'node:crypto';
import { NO_LIMITS, type KeyRecord } from '../keys/keySchema.js';
import type { KeyStore, VerifyResult } from '../keys/keyStore.js';
import type { BruteForceLockout } from '../limits/lockout.js';
import type { Credential } from '../pipeline/credentials.js';
import type { Principal } from '../pipeline/principal.js';
import { LEGACY_KEY_ID } from './principal.js';
import { looksLikeJwt, type SessionTokens } from './sessionTokens.js';
import type { SignInReason } from '../pages/signInReasons.js';

export type AuthOutcome =
  | { ok: true; principal: Principal }
  /** `reason` when a key or session that once worked stopped working: the teammate is told why. */
  | { ok: false; message: string; retryAfterSeconds?: undefined; reason?: SignInReason }
  /** The client address is locked out after too many wrong credentials; nothing was checked. */
  | { ok: false; message: string; retryAfterSeconds: number; reason?: undefined };

export interface Lock {
  /** When the address may try again, ms since the epoch. */
  untilMs: number;
  retryAfterSeconds: number;
  message: string;
}

/** A token stays valid only while its key has the secret it was issued under. */
export function keyVersion(record: Pick<KeyRecord, 'rotatedAt' | 'createdAt'>): string {
  return record.rotatedAt ?? record.createdAt;
}

/**
 * Turns a credential into a principal: an API key (checksum, hash, lookup), a session or access
 * token (signature, then its key must still be valid), or the legacy COMFYGATE_API_KEY.
 */
export class Authenticator {
  readonly #legacyKeyHash: Buffer | undefined;

  constructor(
    private readonly keys: KeyStore,
    private readonly tokens: SessionTokens,
    legacyKey: string | undefined,
    private readonly lockout: BruteForceLockout
  ) {
    this.#legacyKeyHash = legacyKey ? sha256(legacyKey) : undefined;
  }

  /**
   * Checks a credential from `clientIp`. A wrong one counts towards that address's lockout; a
   * locked address is refused before anything is checked, so guessing stops paying off.
   */
  authenticate(credential: Credential, clientIp: string, now = Date.now()): AuthOutcome {
    const lock = this.lockedOut(clientIp, now);
    if (lock) return { ok: false, message: lock.message, retryAfterSeconds: lock.retryAfterSeconds };
    const outcome = this.#check(credential, now);
    if (!outcome.ok) this.lockout.recordFailure(clientIp, now);
    return outcome;
  }

  /** The lock on `clientIp`, or undefined when it may send credentials. One map lookup. */
  lockedOut(clientIp: string, now: number): Lock | undefined {
    const lockedMs = this.lockout.isLocked(clientIp, now);
    if (lockedMs === 0) return undefined;
    const retryAfterSeconds = Math.ceil(lockedMs / 1000);
    const at = new Date(now + lockedMs).toISOString().slice(11, 19);
    return {
      untilMs: now + lockedMs,
      retryAfterSeconds,
      message: `Too many wrong keys from ${clientIp}; try again in ${retryAfterSeconds} s (at ${at} UTC)`,
    };
  }

  #check(credential: Credential, now: number): AuthOutcome {
    const value = credential.value;
    if (value === '') return { ok: false, message: 'The credential is empty' };
    if (value.startsWith('cgk_')) return this.#fromKey(this.keys.verify(value, now), credential);
    if (credential.source !== 'header' && looksLikeJwt(value)) return this.#fromToken(value, credential, now);
    if (this.#legacyKeyHash && timingSafeEqual(sha256(value), this.#legacyKeyHash)) {
      return {
        ok: true,
        principal: {
          keyId: LEGACY_KEY_ID,
          name: 'COMFYGATE_API_KEY',
          role: 'admin',
          scopes: null,
          limits: NO_LIMITS,
          via: credential.source,
        },
      };
    }
    return credential.source === 'cookie'
      ? { ok: false, message: 'Your session has ended; sign in again', reason: 'session_expired' }
      : { ok: false, message: 'The API key is not valid' };
  }

  #fromKey(result: VerifyResult, credential: Credential, token?: Principal['token']): AuthOutcome {
    if (result.ok) {
      const { id, name, role, scopes, limits } = result.record;
      return { ok: true, principal: { keyId: id, name, role, scopes, limits, via: credential.source, token } };
    }
    switch (result.reason) {
      case 'malformed':
        return {
          ok: false,
          message: 'The API key is malformed (its checksum does not match): check for a copy-paste typo',
        };
      case 'unknown':
        // A token naming a key that is gone: the key was deleted. A plain unknown key says nothing more.
        return token
          ? { ok: false, message: 'The key behind this session was deleted', reason: 'deleted' }
          : { ok: false, message: 'The API key is not valid' };
      case 'inactive':
        return { ok: false, message: 'This API key has been deactivated', reason: 'revoked' };
      case 'expired': {
        const expiresAt = this.keys.get(result.keyId)?.expiresAt;
        const when = expiresAt ? ` on ${expiresAt.slice(0, 16).replace('T', ' ')} UTC` : '';
        return { ok: false, message: `This API key expired${when}`, reason: 'expired' };
      }
    }
  }

  #fromToken(value: string, credential: Credential, now: number): AuthOutcome {
    const claims = this.tokens.verify(value, now);
    if (!claims) {
      return credential.source === 'cookie'
        ? { ok: false, message: 'Your session has ended; sign in again', reason: 'session_expired' }
        : { ok: false, message: 'The access token is not valid or has expired' };
    }
    // An access token is a short stand-in for URLs, a session lives only in the HttpOnly cookie: neither may take
    // the other's place, so a leaked `?token=` never becomes a browser session and a 7-day session never sits in a URL.
    if ((credential.source === 'cookie') !== (claims.kind === 'session')) {
      return {
        ok: false,
        message:
          credential.source === 'cookie'
            ? 'An access token cannot be used as the session cookie; sign in with your key'
            : 'A session token only works as the sign-in cookie; send an API key or an access token instead',
      };
    }
    const result = this.keys.verifyId(claims.keyId, now);
    if (result.ok && keyVersion(result.record) !== claims.keyVersion) {
      return {
        ok: false,
        message: 'The key behind this session was rotated; sign in with the new key',
        reason: 'rotated',
      };
    }
    if (result.ok && claims.issuedAtMs <= this.keys.sessionsEndedAt(claims.keyId)) {
      return {
        ok: false,
        reason: 'signed_out',
        message:
          credential.source === 'cookie'
            ? 'This session was ended (signed out everywhere, or the key was revoked); sign in again'
            : 'This access token was ended (signed out everywhere, or the key was revoked); mint a new one',
      };
    }
    return this.#fromKey(result, credential, claims);
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
