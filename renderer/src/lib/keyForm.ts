import type { CreateKeyBody, KeyRecord, Limits, Role, UpdateKeyBody } from '../api/types.js';
import { expiryValue, type ExpiryDraft } from './expiry.js';
import {
  limitErrorsFrom,
  limitsDraft,
  NO_LIMITS,
  parseLimits,
  type LimitErrors,
  type LimitsDraft,
} from './limitsDraft.js';

/** The key form as typed, shared by the New key and Edit key dialogs. */
export interface KeyDraft {
  name: string;
  note: string;
  limits: LimitsDraft;
  expiry: ExpiryDraft;
}

export interface KeyFormErrors {
  name?: string | undefined;
  note?: string | undefined;
  expiresAt?: string | undefined;
  role?: string | undefined;
  limits: LimitErrors;
  form?: string;
}

/** A draft that passed the form's own checks. `expiresAt` is undefined to leave an expiry as it is. */
export interface CheckedKey {
  name: string;
  note: string;
  limits: Limits;
  expiresAt: string | null | undefined;
}

/** The choices of the New key dialog: the gate's presets, plus a plain viewer. */
export type KeyChoice = 'guest' | Role;

/** The gate's guest preset (server/keys/keyPresets.ts), shown before it is sent. */
export const GUEST_LIMITS: Limits = { ...NO_LIMITS, perMinute: 120, perHour: 1200, promptsPerDay: 20, maxQueued: 1 };

/** The form's own checks before anything is sent; `nameMissing` is each dialog's wording. */
export function checkKeyDraft(
  draft: KeyDraft,
  nameMissing: string,
  now = Date.now()
): { key: CheckedKey } | { errors: KeyFormErrors } {
  const parsed = parseLimits(draft.limits);
  const expiresAt = expiryValue(draft.expiry, now);
  const errors: KeyFormErrors = { limits: parsed.errors };
  if (!draft.name.trim()) errors.name = nameMissing;
  if (expiresAt === '') errors.expiresAt = 'Pick a date';
  if (errors.name || errors.expiresAt || Object.keys(parsed.errors).length) return { errors };
  return { key: { name: draft.name.trim(), note: draft.note, limits: parsed.limits, expiresAt } };
}

/**
 * The draft after picking another choice: the guest's limits and a 7-day expiry come with the
 * guest, the default limits with any other; a 7-day expiry the guest brought goes with it.
 */
export function withChoice(draft: KeyDraft, from: KeyChoice, to: KeyChoice, defaults: Limits): KeyDraft {
  const limits = limitsDraft(to === 'guest' ? GUEST_LIMITS : defaults);
  if (to === 'guest') return { ...draft, limits, expiry: { choice: '7', date: draft.expiry.date } };
  if (from === 'guest' && draft.expiry.choice === '7') {
    return { ...draft, limits, expiry: { choice: 'never', date: draft.expiry.date } };
  }
  return { ...draft, limits };
}

export function createKeyBody(key: CheckedKey, choice: KeyChoice): CreateKeyBody {
  return {
    name: key.name,
    note: key.note,
    limits: key.limits,
    expiresAt: key.expiresAt ?? null,
    ...(choice === 'viewer' ? { role: 'viewer' as const } : { preset: choice }),
  };
}

export function updateKeyBody(key: CheckedKey, role: Role, record: Pick<KeyRecord, 'role' | 'scopes'>): UpdateKeyBody {
  const body: UpdateKeyBody = { name: key.name, note: key.note, limits: key.limits };
  if (role !== record.role) {
    body.role = role;
    // A guest's own scopes would outlive a new role; the role's scopes take over.
    if (record.scopes !== null) body.scopes = null;
  }
  if (key.expiresAt !== undefined) body.expiresAt = key.expiresAt;
  return body;
}

/** The gate's field problems (400) next to their boxes; `message` shows when none has a box. */
export function keyFormErrorsFrom(fields: Record<string, string>, message: string): KeyFormErrors {
  const out: KeyFormErrors = {
    name: fields['name'],
    note: fields['note'],
    role: fields['role'] ?? fields['scopes'],
    expiresAt: fields['expiresAt'],
    limits: limitErrorsFrom(fields, 'limits'),
  };
  const placed = out.name || out.note || out.role || out.expiresAt || Object.keys(out.limits).length;
  if (!placed) out.form = message;
  return out;
}
