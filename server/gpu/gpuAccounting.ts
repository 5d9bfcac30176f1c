import { ANONYMOUS } from '../usage/usageSchema.js';
import type { GpuLedger } from './gpuLedger.js';
import type { GpuMeasurement } from './gpuMeter.js';

/** A key whose finished prompt took its GPU time today to its GPU seconds per day. */
export interface GpuQuotaReached {
  id: string;
  name: string;
  /** The quota, in seconds. */
  limit: number;
}

export interface GpuAccountingDeps {
  ledger: GpuLedger;
  usage: { addGpuSeconds(keyId: string, seconds: number): void };
  metrics: { countGpuSeconds(keyId: string, seconds: number): void };
  /**
   * The key behind a subject and the GPU seconds per day that apply to it; undefined for callers
   * without a key and for keys that are not announced (the desktop app's own).
   */
  quotaOf: (subject: string) => { id: string; name: string; limit: number | null } | undefined;
  onQuotaReached: (reached: GpuQuotaReached) => void;
}

/**
 * Where a measured prompt goes: usage.json (by key id, `anonymous` for the rest), the Prometheus
 * counter, today's ledger. The measurement that takes a key to its quota is announced, once: only
 * that one passes from below the quota to at or above it.
 */
export function gpuAccounting({ ledger, usage, metrics, quotaOf, onQuotaReached }: GpuAccountingDeps) {
  return function accountGpu({ subject, seconds }: GpuMeasurement): void {
    // Callers without a key share one usage row and one label value: their addresses would make both unbounded.
    const row = subject.startsWith('anon:') ? ANONYMOUS : subject;
    usage.addGpuSeconds(row, seconds);
    metrics.countGpuSeconds(row, seconds);
    const before = ledger.secondsToday(subject);
    const after = ledger.add(subject, seconds);
    const quota = quotaOf(subject);
    if (quota === undefined || quota.limit === null) return;
    if (before < quota.limit && after >= quota.limit) {
      onQuotaReached({ id: quota.id, name: quota.name, limit: quota.limit });
    }
  };
}
