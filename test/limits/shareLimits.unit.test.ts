// Which GPU share applies to a caller: the key's own, its role's default, or none (server/limits/shareLimits.ts).
import { describe, expect, it } from 'vitest';
import { NO_LIMITS } from '../../server/keys/keySchema.js';
import { effectiveShareLimits } from '../../server/limits/shareLimits.js';
import type { Principal } from '../../server/pipeline/principal.js';
import { DEFAULT_SETTINGS, type RuntimeSettings } from '../../server/settings/settingsSchema.js';

const SETTINGS: RuntimeSettings = {
  ...DEFAULT_SETTINGS,
  roleLimits: { viewer: {}, creator: { maxSteps: 40, weight: 2 }, operator: {}, admin: {} },
  anonymous: { role: 'creator', limits: { ...NO_LIMITS, maxPixels: 512 * 512 } },
};

function creator(limits: Partial<typeof NO_LIMITS>): Principal {
  return { keyId: 'k', name: 'k', role: 'creator', scopes: null, limits: { ...NO_LIMITS, ...limits }, via: 'header' };
}

describe('effective share limits', () => {
  it("takes the key's own value over its role's default", () => {
    expect(effectiveShareLimits(creator({ maxSteps: 20 }), SETTINGS)).toMatchObject({ maxSteps: 20, weight: 2 });
  });

  it("falls back to the role's default, then to none (weight 1)", () => {
    expect(effectiveShareLimits(creator({}), SETTINGS)).toMatchObject({ maxSteps: 40, maxPixels: null, weight: 2 });
    const viewer = { ...creator({}), role: 'viewer' as const };
    expect(effectiveShareLimits(viewer, SETTINGS)).toMatchObject({ maxSteps: null, weight: 1 });
  });

  it("gives anonymous callers the tier's limits, then its role's defaults", () => {
    expect(effectiveShareLimits(undefined, SETTINGS)).toMatchObject({ maxPixels: 512 * 512, maxSteps: 40, weight: 2 });
  });
});
