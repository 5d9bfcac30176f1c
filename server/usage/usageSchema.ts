import { z } from 'zod';
import { scopeSchema } from '../keys/keySchema.js';

/** The usage.json row of callers without a credential (mode off, or optional without a key). */
export const ANONYMOUS = 'anonymous';

export const USAGE_FILE = 'usage.json';

const count = z.number().int().nonnegative();
const milliseconds = z.number().nonnegative();

export const statusClassSchema = z.enum(['2xx', '3xx', '4xx', '5xx']);
export type StatusClass = z.infer<typeof statusClassSchema>;

export const dayUsageSchema = z.object({
  /** Every finished request and WebSocket session, refused ones included. */
  requests: count,
  /** A relayed WebSocket (101) is in no class: it is counted in wsSessions. */
  byStatus: z.record(statusClassSchema, count),
  /** Status 400 and above, the gate's own refusals included. */
  errors: count,
  /** Accepted `POST /prompt`. */
  prompts: count,
  bytesIn: count,
  bytesOut: count,
  totalDurationMs: milliseconds,
  maxDurationMs: milliseconds,
  /** Requests refused before their route was classified are in no class. */
  byRouteClass: z.record(scopeSchema, count),
  /** WebSockets that were relayed; refused upgrades are only requests. */
  wsSessions: count,
  /**
   * Seconds ComfyUI spent executing this key's prompts (execution_start to their end), on the day they
   * ended. Files written before GPU time was measured have none: they read as 0.
   */
  gpuSeconds: z.number().nonnegative().default(0),
});
export type DayUsage = z.infer<typeof dayUsageSchema>;

/** The operator's local calendar day, `YYYY-MM-DD` (a real date: no 02-30). */
export const localDateSchema = z.iso.date();

/** Key ids, 'anonymous' and the legacy 'env'; never a name that would reach an object's prototype. */
export const usageKeyIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected a key id')
  .refine((id) => id !== '__proto__', 'expected a key id');

export const usageFileSchema = z.object({
  version: z.literal(1),
  days: z.record(localDateSchema, z.record(usageKeyIdSchema, dayUsageSchema)),
});
export type UsageFile = z.infer<typeof usageFileSchema>;

export function emptyDayUsage(): DayUsage {
  return {
    requests: 0,
    byStatus: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
    errors: 0,
    prompts: 0,
    bytesIn: 0,
    bytesOut: 0,
    totalDurationMs: 0,
    maxDurationMs: 0,
    byRouteClass: { read: 0, generate: 0, manage: 0, install: 0 },
    wsSessions: 0,
    gpuSeconds: 0,
  };
}

export interface UsageQuery {
  /** First day, 'YYYY-MM-DD' (local); defaults to DEFAULT_QUERY_DAYS days before `to`. */
  from?: string;
  /** Last day, included; defaults to today. */
  to?: string;
  /** Only this key ('anonymous' for callers without a credential). */
  keyId?: string;
}

export interface UsageRow extends DayUsage {
  date: string;
  keyId: string;
}

export interface UsageReport {
  from: string;
  to: string;
  /** Days with any usage only, by date then key id. */
  days: UsageRow[];
  totals: DayUsage;
}

/** A row of /all: the key's current name, null for anonymous callers and deleted keys. */
export interface NamedUsageRow extends UsageRow {
  keyName: string | null;
}

export interface AllUsageReport extends Omit<UsageReport, 'days'> {
  days: NamedUsageRow[];
}
