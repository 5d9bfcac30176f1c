import { z } from 'zod';
import { GateError } from '../errors.js';
import { NO_LIMITS, type Limits } from './keySchema.js';

export const presetSchema = z.enum(['guest', 'creator', 'operator', 'admin']);
export type Preset = z.infer<typeof presetSchema>;

/**
 * A demo key to share in one step: a viewer that may also generate, within tight limits, for 7 days. The prompt
 * limits hold the GPU; requests per minute and hour stop scripts, and leave room for a person
 * reloading the web UI and opening its sidebars (about 25 API calls a load; its files are free).
 */
export const GUEST_LIMITS: Limits = { ...NO_LIMITS, perMinute: 120, perHour: 1200, promptsPerDay: 20, maxQueued: 1 };
const GUEST_DAYS = 7;

/**
 * Fills a key-creation body from a preset and the operator's default limits, before validation.
 * Fields the caller gave win; `preset` itself is consumed here.
 */
export function applyKeyDefaults(body: unknown, defaultLimits: Limits, now = Date.now()): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const { preset, ...rest } = body as Record<string, unknown>;
  const parsedPreset = preset === undefined ? undefined : presetSchema.safeParse(preset);
  if (parsedPreset && !parsedPreset.success) {
    throw new GateError('bad_request', 'Invalid request: preset: expected guest, creator, operator or admin');
  }
  const givenLimits = typeof rest['limits'] === 'object' && rest['limits'] !== null ? rest['limits'] : {};
  if (parsedPreset?.data === 'guest') {
    return {
      role: 'viewer',
      scopes: ['read', 'generate'],
      expiresAt: new Date(now + GUEST_DAYS * 86_400_000).toISOString(),
      ...rest,
      limits: { ...GUEST_LIMITS, ...givenLimits },
    };
  }
  return {
    ...(parsedPreset ? { role: parsedPreset.data } : {}),
    ...rest,
    limits: { ...defaultLimits, ...givenLimits },
  };
}
