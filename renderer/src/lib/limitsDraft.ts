import type { Limits } from '../api/types.js';
import { FRACTIONAL_LIMITS, LIMIT_FIELDS } from './format.js';

/** Limits as typed: an empty box means unlimited. */
export type LimitsDraft = Record<keyof Limits, string>;

export type LimitErrors = Partial<Record<keyof Limits, string>>;

export function limitsDraft(limits: Limits): LimitsDraft {
  const draft = {} as LimitsDraft;
  for (const field of LIMIT_FIELDS) {
    const value = limits[field];
    draft[field] = value === null || value === undefined ? '' : String(value);
  }
  return draft;
}

function emptyLimits(): Limits {
  const limits = {} as Limits;
  for (const field of LIMIT_FIELDS) limits[field] = null;
  return limits;
}

export const NO_LIMITS: Readonly<Limits> = Object.freeze(emptyLimits());

/** The limits to send, or the problems to show next to each box. */
export function parseLimits(draft: LimitsDraft): { limits: Limits; errors: LimitErrors } {
  const limits = emptyLimits();
  const errors: LimitErrors = {};
  for (const field of LIMIT_FIELDS) {
    const text = draft[field].trim();
    if (text === '') continue;
    const value = Number(text);
    if (FRACTIONAL_LIMITS.has(field)) {
      if (!Number.isFinite(value) || value <= 0) errors[field] = 'A number above 0, or empty for none';
      else limits[field] = value;
    } else if (!Number.isInteger(value) || value < 1)
      errors[field] = 'A whole number of 1 or more, or empty for unlimited';
    else limits[field] = value;
  }
  return { limits, errors };
}

/** Server problems such as `limits.perMinute: …` or `defaultLimits.maxQueued: …`, by limit name. */
export function limitErrorsFrom(fields: Record<string, string>, prefix: string): LimitErrors {
  const out: LimitErrors = {};
  for (const field of LIMIT_FIELDS) {
    const message = fields[`${prefix}.${field}`];
    if (message) out[field] = message;
  }
  return out;
}
