import type { Limits } from '../keys/keySchema.js';

/** The id the legacy COMFYGATE_API_KEY speaks for; it is not in keys.json. */
export const LEGACY_KEY_ID = 'env';

export const UNLIMITED: Limits = Object.freeze({
  perMinute: null,
  perHour: null,
  promptsPerDay: null,
  maxQueued: null,
});
