import { z } from 'zod';

export const roleSchema = z.enum(['viewer', 'creator', 'operator', 'admin']);
export type Role = z.infer<typeof roleSchema>;

export const scopeSchema = z.enum(['read', 'generate', 'manage', 'install']);
export type Scope = z.infer<typeof scopeSchema>;

/** null = unlimited. */
const limitValue = z.number().int('expected a whole number').positive('expected a positive number').nullable();
/** Seconds and weights may have fractions. */
const amountValue = z
  .number()
  .positive('expected a positive number')
  .max(1e9, 'expected at most 1000000000')
  .nullable();

/** What a key may share of the GPU: fair-queue weight, GPU time per day and the size of one generation. */
export const shareLimitsSchema = z.object({
  /** Seconds of ComfyUI execution per UTC day. */
  gpuSecondsPerDay: amountValue,
  /** Image area, width × height. */
  maxPixels: limitValue,
  maxBatch: limitValue,
  maxSteps: limitValue,
  /** Video length in frames. */
  maxFrames: limitValue,
  /** Nodes in one prompt. */
  maxNodes: limitValue,
  /** Share of the queue against other keys (2 = twice as many prompts started); null = the role's. */
  weight: z.number().positive('expected a positive number').max(1000, 'expected at most 1000').nullable(),
});
export type ShareLimits = z.infer<typeof shareLimitsSchema>;

export const limitsSchema = z
  .object({
    perMinute: limitValue,
    perHour: limitValue,
    promptsPerDay: limitValue,
    maxQueued: limitValue,
  })
  .extend(shareLimitsSchema.shape);
export type Limits = z.infer<typeof limitsSchema>;

export const NO_SHARE_LIMITS: ShareLimits = Object.freeze({
  gpuSecondsPerDay: null,
  maxPixels: null,
  maxBatch: null,
  maxSteps: null,
  maxFrames: null,
  maxNodes: null,
  weight: null,
});

export const NO_LIMITS: Limits = Object.freeze({
  perMinute: null,
  perHour: null,
  promptsPerDay: null,
  maxQueued: null,
  ...NO_SHARE_LIMITS,
});

/** Files written before a limit existed lack it: a missing limit is no limit. */
export const storedLimitsSchema = z.preprocess(
  (value) =>
    typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...NO_LIMITS, ...value } : value,
  limitsSchema
);

const nameSchema = z.string().trim().min(1, 'expected a name').max(100, 'expected at most 100 characters');
const noteSchema = z.string().max(1000, 'expected at most 1000 characters');
/** As written by toISOString(); offsets are tolerated for hand-edited files. */
const storedInstant = z.iso.datetime({ offset: true });

export const keyRecordSchema = z.object({
  id: z.string().min(1),
  name: nameSchema,
  note: noteSchema.default(''),
  role: roleSchema,
  /** null = the role's scopes. */
  scopes: z.array(scopeSchema).nullable(),
  limits: storedLimitsSchema,
  expiresAt: storedInstant.nullable(),
  active: z.boolean(),
  createdAt: storedInstant,
  updatedAt: storedInstant,
  lastUsedAt: storedInstant.nullable(),
  /** SHA-256 of the key, hex. The key itself is never stored. */
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'expected a hex SHA-256 hash'),
  hint: z.string(),
  rotatedAt: storedInstant.nullable(),
  /**
   * Sessions and access tokens of this key signed up to this instant are dead: set by "sign out everywhere", rotation,
   * and whenever the key stops or starts being usable, so a revoked and re-activated key does not revive old sessions.
   */
  sessionsEndedAt: storedInstant.nullable().default(null),
});
export type KeyRecord = z.infer<typeof keyRecordSchema>;

export type PublicKeyRecord = Omit<KeyRecord, 'hash'>;

/** What leaves the store: the hash would let anyone with the file or an API response test guesses offline. */
export function publicKeyRecord(record: KeyRecord): PublicKeyRecord {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { hash, ...rest } = record;
  return rest;
}

export const keysFileSchema = z
  .object({
    version: z.literal(1),
    keys: z.array(keyRecordSchema),
  })
  .superRefine((file, ctx) => {
    const ids = new Set<string>();
    const hashes = new Set<string>();
    file.keys.forEach((key, index) => {
      if (ids.has(key.id)) ctx.addIssue({ code: 'custom', message: `duplicate id ${key.id}`, path: ['keys', index] });
      if (hashes.has(key.hash)) ctx.addIssue({ code: 'custom', message: 'duplicate hash', path: ['keys', index] });
      ids.add(key.id);
      hashes.add(key.hash);
    });
  });
export type KeysFile = z.infer<typeof keysFileSchema>;

/** A date (2026-01-31, UTC midnight) or a date and time, with or without seconds and offset. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

function toIsoInstant(value: string): string | undefined {
  if (!ISO_DATE.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

const inputInstant = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const iso = toIsoInstant(value);
    if (iso === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected an ISO date such as 2026-01-31 or 2026-01-31T18:00:00Z' });
      return z.NEVER;
    }
    return iso;
  });

const futureInstant = inputInstant.refine((iso) => Date.parse(iso) > Date.now(), 'expected a date in the future');

const limitsPatchSchema = limitsSchema.partial().strict();
const explicitScopes = z.array(scopeSchema).min(1, "give at least one scope, or null for the role's").max(4);

export const createKeyInputSchema = z
  .object({
    name: nameSchema,
    role: roleSchema.default('creator'),
    note: noteSchema.default(''),
    limits: limitsPatchSchema.default({}).transform((limits): Limits => ({ ...NO_LIMITS, ...limits })),
    expiresAt: futureInstant.nullable().default(null),
    /** Explicit scopes replace the role's for ComfyUI routes (a guest is a viewer that may generate). */
    scopes: explicitScopes.nullable().default(null),
  })
  .strict();
export type CreateKeyInput = z.input<typeof createKeyInputSchema>;

/**
 * Limits given here replace only those fields; an expiry in the past is allowed and expires the key at once.
 */
export const updateKeyInputSchema = z
  .object({
    name: nameSchema.optional(),
    role: roleSchema.optional(),
    note: noteSchema.optional(),
    limits: limitsPatchSchema.optional(),
    expiresAt: inputInstant.nullable().optional(),
    active: z.boolean().optional(),
    scopes: explicitScopes.nullable().optional(),
  })
  .strict();
export type UpdateKeyInput = z.input<typeof updateKeyInputSchema>;

const DURATION = /^(\d+)\s*([mhdw])$/i;
/** The largest time a Date can hold. */
const MAX_DATE_MS = 8.64e15;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** The CLI's --expires: a duration from now (30d, 12h, 90m, 2w) or an ISO date. */
export function parseExpiry(value: string, now: Date): string {
  const text = value.trim();
  const duration = DURATION.exec(text);
  if (duration) {
    const amount = Number(duration[1]);
    const unitMs = UNIT_MS[(duration[2] ?? '').toLowerCase()];
    if (amount > 0 && unitMs !== undefined) {
      const at = now.getTime() + amount * unitMs;
      if (Number.isFinite(at) && at <= MAX_DATE_MS) return new Date(at).toISOString();
    }
    throw new Error(`invalid expiry "${value}": the duration must be positive and reasonable`);
  }
  const iso = toIsoInstant(text);
  if (iso !== undefined) return iso;
  throw new Error(
    `invalid expiry "${value}": expected a duration such as 30d, 12h, 90m or 2w, or an ISO date such as 2026-01-31`
  );
}
