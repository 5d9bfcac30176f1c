import { z } from 'zod';
import { limitsSchema, NO_LIMITS, shareLimitsSchema, storedLimitsSchema, roleSchema } from '../keys/keySchema.js';
import { backendSpecSchema, gateConfigSchema } from '../config/schema.js';
import { routeOverrideSchema } from '../pipeline/routeClasses.js';
import { trustedProxySchema } from './proxyEntry.js';

export const authModeSchema = z.enum(['off', 'optional', 'required']);
export type AuthMode = z.infer<typeof authModeSchema>;

/** `/`, `/some/path`, or a prefix ending in `*`; matched on the normalized path (see normalizePath.ts). */
export const publicPathSchema = z
  .string()
  .trim()
  .regex(/^\/[^?#\s]*$/, 'a public path starts with / and has no query, fragment or spaces')
  .refine((p) => !p.slice(0, -1).includes('*'), 'only a trailing * is allowed in a public path')
  .refine((p) => !p.split('/').some((s) => s === '..' || s === '.'), 'a public path has no . or .. segments');

/** Callers without a credential in mode `optional`, limited per client IP. */
export const anonymousTierSchema = z.object({
  role: roleSchema.exclude(['admin']),
  limits: storedLimitsSchema,
});

/**
 * Per role, the GPU-time quota, generation caps and fair-queue weight a key gets where its own is
 * empty (null); a role without one leaves that limit off (weight 1).
 */
const roleShareLimits = shareLimitsSchema.partial().strict().default({});
export const roleLimitsSchema = z.object({
  viewer: roleShareLimits,
  creator: roleShareLimits,
  operator: roleShareLimits,
  admin: roleShareLimits,
});
export type RoleLimits = z.infer<typeof roleLimitsSchema>;

/** An input name as ComfyUI nodes declare them: no spaces, so a list of them reads as one line. */
const capInputName = z
  .string()
  .trim()
  .min(1, 'expected an input name')
  .max(100, 'expected at most 100 characters')
  .regex(/^\S+$/, 'an input name has no spaces');
const capInputNames = z.array(capInputName).max(50, 'expected at most 50 input names');

/**
 * Which node inputs the generation caps read, on any node class: an image's area is one node's
 * width × height; batch, steps and frames are each input's own value. Custom nodes name theirs freely.
 */
export const capInputsSchema = z.object({
  width: capInputNames,
  height: capInputNames,
  batch: capInputNames,
  steps: capInputNames,
  frames: capInputNames,
});
export type CapInputs = z.infer<typeof capInputsSchema>;

export const lockoutSettingsSchema = z.object({
  maxFailures: z.number().int().min(1).max(1000),
  windowMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60),
  lockoutMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60),
});

/**
 * The fair order of prompts (server/fairness/): pending prompts of different keys take turns by
 * weight instead of first come, first served; `byGpuTime` makes a key's prompts cost more the more
 * GPU time it used today, so heavy users yield to light ones.
 */
export const fairQueueSettingsSchema = z.object({
  enabled: z.boolean(),
  byGpuTime: z.boolean(),
});
export type FairQueueSettings = z.infer<typeof fairQueueSettingsSchema>;

/** How much of the request log is kept: whichever limit is reached first drops the oldest lines. */
export const logRetentionSchema = z.object({
  days: z.number().int().min(1).max(3650),
  maxMegabytes: z.number().int().min(10).max(1_000_000),
});

/** Which desktop notifications the tray app shows; the gate emits the events either way. */
export const notificationSettingsSchema = z.object({
  /** ComfyUI stopped answering, and when it is back. */
  comfyDown: z.boolean(),
  /** A key was used for the first time. */
  firstUse: z.boolean(),
  /** An address was locked out after repeated wrong keys. */
  lockout: z.boolean(),
  /** A key reached its prompts-per-day quota. */
  quota: z.boolean(),
});
export type NotificationSettings = z.infer<typeof notificationSettingsSchema>;

/** What the operator changes while the gate runs: applied to the next request, no restart. */
export const runtimeSettingsSchema = z.object({
  mode: authModeSchema,
  publicPaths: z.array(publicPathSchema).max(100),
  /** Limits a new key gets when its creator gives none. */
  defaultLimits: storedLimitsSchema,
  anonymous: anonymousTierSchema,
  roleLimits: roleLimitsSchema,
  capInputs: capInputsSchema,
  lockout: lockoutSettingsSchema,
  /** Operator's own classes for custom-node routes; checked before the built-in table. */
  routeOverrides: z.array(routeOverrideSchema).max(200),
  /** Days of per-key usage kept in usage.json. */
  retentionDays: z.number().int().min(1).max(3650),
  /** Bearer token a Prometheus scraper may use for /gate/metrics instead of an admin key. */
  metricsToken: z.string().min(16, 'use at least 16 characters').max(256).nullable(),
  /**
   * Team isolation: callers without the manage scope see and touch only their own prompts (queue,
   * history, WebSocket messages) and no server internals. Applies while a mode other than `off` is on.
   */
  isolation: z.boolean(),
  /**
   * Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For/-Proto/-Host and Forwarded headers the gate
   * believes: for origin checks, the Secure cookie and client addresses. Empty: nobody's.
   */
  trustProxy: z.array(trustedProxySchema).max(64),
  logRetention: logRetentionSchema,
  /**
   * Under team isolation, whether files of ComfyUI's input, output and temp folders that no teammate
   * owns (made before the gate, or by operators) are visible to isolated callers.
   */
  unownedFiles: z.enum(['visible', 'hidden']),
  /**
   * WebSockets one key may have open at once (a browser tab holds one); anonymous callers count per
   * address. null: no cap.
   */
  maxWebSocketsPerKey: z.number().int().min(1).max(10_000).nullable(),
  notifications: notificationSettingsSchema,
  fairQueue: fairQueueSettingsSchema,
});
export type RuntimeSettings = z.infer<typeof runtimeSettingsSchema>;

export const DEFAULT_SETTINGS: RuntimeSettings = {
  mode: 'required',
  publicPaths: [],
  defaultLimits: NO_LIMITS,
  anonymous: {
    role: 'creator',
    limits: { ...NO_LIMITS, perMinute: 60, perHour: 600, promptsPerDay: 50, maxQueued: 2 },
  },
  roleLimits: { viewer: {}, creator: {}, operator: {}, admin: {} },
  capInputs: {
    width: ['width'],
    height: ['height'],
    batch: ['batch_size'],
    steps: ['steps'],
    frames: ['length', 'frames', 'num_frames', 'video_frames', 'frame_count'],
  },
  lockout: { maxFailures: 10, windowMinutes: 5, lockoutMinutes: 15 },
  routeOverrides: [],
  retentionDays: 90,
  metricsToken: null,
  isolation: true,
  trustProxy: [],
  logRetention: { days: 7, maxMegabytes: 500 },
  unownedFiles: 'hidden',
  maxWebSocketsPerKey: 20,
  notifications: { comfyDown: true, firstUse: true, lockout: true, quota: true },
  fairQueue: { enabled: true, byGpuTime: false },
};

/**
 * settings.json holds the runtime settings next to the start-up config keys (upstream, host, port…),
 * which loadConfig reads; unknown keys are kept so neither side drops the other's.
 */
export const settingsFileSchema = z.looseObject(runtimeSettingsSchema.partial().shape);
export type SettingsFile = z.infer<typeof settingsFileSchema>;

export const settingsPatchSchema = runtimeSettingsSchema
  .extend({
    defaultLimits: limitsSchema.partial().strict(),
    anonymous: anonymousTierSchema.extend({ limits: limitsSchema.partial().strict() }).partial().strict(),
    roleLimits: roleLimitsSchema.partial().strict(),
    capInputs: capInputsSchema.partial().strict(),
    lockout: lockoutSettingsSchema.partial().strict(),
    logRetention: logRetentionSchema.partial().strict(),
    notifications: notificationSettingsSchema.partial().strict(),
    fairQueue: fairQueueSettingsSchema.partial().strict(),
  })
  .partial()
  .strict();
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

/** Where the gate listens and which ComfyUI it fronts: saved now, applied at the next start. */
export const startupSettingsSchema = z.object({
  upstream: gateConfigSchema.shape.upstream.unwrap(),
  /** Several ComfyUIs (server/backends/); saving one of upstream and upstreams drops the other. */
  upstreams: z
    .array(backendSpecSchema)
    .min(1)
    .max(64)
    .refine((specs) => new Set(specs.map((spec) => spec.url)).size === specs.length, 'a URL is listed twice'),
  host: gateConfigSchema.shape.host.unwrap(),
  port: z.number().int().min(1).max(65535),
  /** HTTPS with the gate's self-signed certificate (the operator's own comes from --tls-cert/--tls-key). */
  https: z.boolean(),
});
export type StartupSettings = Partial<z.infer<typeof startupSettingsSchema>>;

/** null puts a setting back to its default (discovery for the upstream). */
export const startupPatchSchema = z
  .object({
    upstream: startupSettingsSchema.shape.upstream.nullable(),
    upstreams: startupSettingsSchema.shape.upstreams.nullable(),
    host: startupSettingsSchema.shape.host.nullable(),
    port: startupSettingsSchema.shape.port.nullable(),
    https: startupSettingsSchema.shape.https.nullable(),
  })
  .partial()
  .strict();
export type StartupPatch = z.infer<typeof startupPatchSchema>;
