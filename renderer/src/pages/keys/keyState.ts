import type { KeyRecord, KeyWithSecret } from '../../api/types.js';
import { formatRelative } from '../../lib/format.js';

export type KeyState = 'active' | 'inactive' | 'expired' | 'expiring';

const SOON_MS = 3 * 86_400_000;

export function keyState(key: KeyRecord, now = Date.now()): KeyState {
  if (!key.active) return 'inactive';
  if (key.expiresAt !== null) {
    const at = Date.parse(key.expiresAt);
    if (at <= now) return 'expired';
    if (at - now < SOON_MS) return 'expiring';
  }
  return 'active';
}

export function keyStateLabel(key: KeyRecord, now = Date.now()): string {
  const state = keyState(key, now);
  if (state === 'inactive') return 'Inactive';
  if (state === 'expired') return 'Expired';
  if (key.expiresAt !== null) return `Expires ${formatRelative(key.expiresAt, now)}`;
  return 'Active';
}

export const STATE_TONE: Record<KeyState, string> = {
  active: 'badge-ok',
  expiring: 'badge-warn',
  inactive: '',
  expired: 'badge-danger',
};

/** The record without its plaintext key, to keep in the list after the show-once dialog. */
export function withoutSecret(record: KeyWithSecret): KeyRecord {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { key, ...rest } = record;
  return rest;
}
