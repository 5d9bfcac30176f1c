import type { HealthReport } from '../../server/admin/health.js';

/** The dashboard's one way to talk to the gate: same origin, JSON, the gate's error shape. */
export async function fetchHealth(signal?: AbortSignal): Promise<HealthReport> {
  const res = await fetch('/gate/healthz', { signal, cache: 'no-store' });
  if (!res.ok) throw new Error(`The gate answered ${res.status}`);
  return (await res.json()) as HealthReport;
}
