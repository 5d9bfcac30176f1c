import { z } from 'zod';

export const authModeSchema = z.enum(['off', 'optional', 'required']);
export type AuthMode = z.infer<typeof authModeSchema>;

/** `/`, `/some/path`, or a prefix ending in `*`; matched on the normalized path (see normalizePath.ts). */
export const publicPathSchema = z
  .string()
  .trim()
  .regex(/^\/[^?#\s]*$/, 'a public path starts with / and has no query, fragment or spaces')
  .refine((p) => !p.slice(0, -1).includes('*'), 'only a trailing * is allowed in a public path')
  .refine((p) => !p.split('/').some((s) => s === '..' || s === '.'), 'a public path has no . or .. segments');

/** What the operator changes while the gate runs: applied to the next request, no restart. */
export const runtimeSettingsSchema = z.object({
  mode: authModeSchema,
  publicPaths: z.array(publicPathSchema).max(100),
});
export type RuntimeSettings = z.infer<typeof runtimeSettingsSchema>;

export const DEFAULT_SETTINGS: RuntimeSettings = { mode: 'required', publicPaths: [] };

/**
 * settings.json holds the runtime settings next to the start-up config keys (upstream, host, port…),
 * which loadConfig reads; unknown keys are kept so neither side drops the other's.
 */
export const settingsFileSchema = z.looseObject({
  mode: authModeSchema.optional(),
  publicPaths: z.array(publicPathSchema).max(100).optional(),
});
export type SettingsFile = z.infer<typeof settingsFileSchema>;

export const settingsPatchSchema = runtimeSettingsSchema.partial().strict();
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;
