import type { Limits } from '../api/types.js';
import { LIMIT_FIELDS } from './format.js';

/** Limits as typed: an empty box means unlimited. */
export type LimitsDraft = Record<keyof Limits, string>;

export type LimitErrors = Partial<Record<keyof Limits, string>>;

export function limitsDraft(limits: Limits): LimitsDraft {
  return {
    perMinute: limits.perMinute === null ? '' : String(limits.perMinute),
    perHour: limits.perHour === null ? '' : String(limits.perHour),
    promptsPerDay: limits.promptsPerDay === null ? '' : String(limits.promptsPerDay),
    maxQueued: limits.maxQueued === null ? '' : String(limits.maxQueued),
  };
}

/** The limits to send, or the problems to show next to each box. */
export function parseLimits(draft: LimitsDraft): { limits: Limits; errors: LimitErrors } {
  const limits = { perMinute: null, perHour: null, promptsPerDay: null, maxQueued: null } as Limits;
  const errors: LimitErrors = {};
  for (const field of LIMIT_FIELDS) {
    const text = draft[field].trim();
    if (text === '') continue;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) errors[field] = 'A whole number of 1 or more, or empty for unlimited';
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
