import type { Role, ShareLimits } from '../keys/keySchema.js';
import type { Principal } from '../pipeline/principal.js';
import type { RuntimeSettings } from '../settings/settingsSchema.js';

/** A key with no weight of its own and none from its role counts as one share. */
export const DEFAULT_WEIGHT = 1;

/**
 * The GPU share that applies to a caller: the key's own value where it has one, else its role's
 * default from Settings, else none. Anonymous callers take the anonymous tier's limits, then the
 * defaults of the anonymous tier's role. Only `POST /prompt` asks, so it may build a fresh object.
 */
export function effectiveShareLimits(
  principal: Pick<Principal, 'role' | 'limits'> | undefined,
  settings: RuntimeSettings
): ShareLimits {
  const own = principal ? principal.limits : settings.anonymous.limits;
  const role: Role = principal ? principal.role : settings.anonymous.role;
  const fallback = settings.roleLimits[role];
  return {
    gpuSecondsPerDay: own.gpuSecondsPerDay ?? fallback.gpuSecondsPerDay ?? null,
    maxPixels: own.maxPixels ?? fallback.maxPixels ?? null,
    maxBatch: own.maxBatch ?? fallback.maxBatch ?? null,
    maxSteps: own.maxSteps ?? fallback.maxSteps ?? null,
    maxFrames: own.maxFrames ?? fallback.maxFrames ?? null,
    maxNodes: own.maxNodes ?? fallback.maxNodes ?? null,
    weight: own.weight ?? fallback.weight ?? DEFAULT_WEIGHT,
  };
}
