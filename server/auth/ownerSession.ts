import type { KeyRecord } from '../keys/keySchema.js';
import type { KeyStore } from '../keys/keyStore.js';
import { keyVersion } from './authenticator.js';
import { SESSION_COOKIE } from '../pipeline/credentials.js';
import { SESSION_TTL_SECONDS } from './sessionCookie.js';
import type { SessionTokens } from './sessionTokens.js';

/** A session for the operator's own window: set as a cookie in its session partition, never in a URL. */
export interface OwnerSession {
  cookieName: string;
  value: string;
  maxAgeSeconds: number;
}

/** Marks the admin key the desktop app signs its own window in with. */
const OWNER_KEY_NOTE = 'Used by the ComfyGate desktop app on this computer to open the dashboard.';

/** The desktop app's own key: never announced as a teammate's first use. */
export function isOwnerKey(record: Pick<KeyRecord, 'note'>): boolean {
  return record.note === OWNER_KEY_NOTE;
}

/** An admin session for the desktop window, from a key kept for this machine (made once, never shown). */
export async function ownerSession(keys: KeyStore, tokens: SessionTokens): Promise<OwnerSession> {
  const record =
    keys.list().find((k) => isOwnerKey(k) && k.role === 'admin' && k.active) ??
    (await keys.create({ name: 'This computer (desktop app)', role: 'admin', note: OWNER_KEY_NOTE })).record;
  const { token } = tokens.sign('session', record.id, keyVersion(record), SESSION_TTL_SECONDS);
  return { cookieName: SESSION_COOKIE, value: token, maxAgeSeconds: SESSION_TTL_SECONDS };
}

/** A teammate's key used for the first time, for the operator; the desktop app's own key is not announced. */
export function announceFirstUse(keys: KeyStore, announce: (key: { id: string; name: string }) => void): void {
  keys.events.on('firstUse', (id) => {
    const record = keys.get(id);
    if (record !== undefined && !isOwnerKey(record)) announce({ id, name: record.name });
  });
}
