import type { Limits, Role, Scope } from '../keys/keySchema.js';
import type { CredentialSource } from './credentials.js';
import type { TokenClaims } from './sessionTokens.js';

/** Who a request speaks for, once a credential checked out. */
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

/** The id the legacy COMFYGATE_API_KEY speaks for; it is not in keys.json. */
export const LEGACY_KEY_ID = 'env';

export const UNLIMITED: Limits = Object.freeze({
  perMinute: null,
  perHour: null,
  promptsPerDay: null,
  maxQueued: null,
});
