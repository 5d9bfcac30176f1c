// Comparison rows measured in alternating rounds (A, B, C, A, B, C, …) within one run: a busy spell on the shared
// machine then lands on every row of a comparison alike instead of on one of them, and the spread over the rounds
// shows how much of a difference is noise.
import { runLoad, type LoadResult } from './httpLoad.js';
import { cpuWindow, type CpuSample } from './processes.js';

/** One row of a comparison: a path through one server, and how to read that server's CPU. */
export interface RoundTarget {
  label: string;
  url: string;
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
  body?: string;
  sampleCpu: () => CpuSample;
  /** Run before each of the row's runs, outside the measured window (e.g. emptying the fake's queue). */
  before?: () => Promise<void>;
}

export interface RoundsOptions {
  rounds: number;
  roundSec: number;
  /** One unmeasured run per target before the first round (JIT, pools, caches). */
  warmupSec: number;
  connections: number;
}

/** Median and range of one quantity over the rounds, with every round's value kept for the JSON report. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  values: number[];
}

export interface RowResult {
  label: string;
  /** The server's CPU (utime + stime) per completed request, in µs. */
  cpuUsPerRequest: Spread;
  requestsPerSec: Spread;
  p50Ms: Spread;
  /** CPU other processes took on the server's core, as a share of the round: a noisy round shows here. */
  otherCpuShare: Spread;
  /** Requests that failed or answered non-2xx, over all rounds: a row with any is not a cost but a fault. */
  failed: number;
  requests: number;
}

export function spreadOf(values: readonly number[]): Spread {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, values: [...values] };
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return { median, min: sorted[0] ?? Number.NaN, max: sorted[sorted.length - 1] ?? Number.NaN, values: [...values] };
}

interface RoundSample {
  load: LoadResult;
  cpuUs: number;
  otherShare: number;
}

async function measureOnce(target: RoundTarget, options: RoundsOptions, durationSec: number): Promise<RoundSample> {
  await target.before?.();
  const before = target.sampleCpu();
  const load = await runLoad({
    url: target.url,
    headers: target.headers,
    method: target.method,
    body: target.body,
    connections: options.connections,
    durationSec,
  });
  const window = cpuWindow(before, target.sampleCpu());
  return {
    load,
    cpuUs: (window.processSeconds * 1e6) / load.requests,
    otherShare: window.otherSeconds / load.durationSec,
  };
}

export async function measureAlternating(
  targets: readonly RoundTarget[],
  options: RoundsOptions
): Promise<RowResult[]> {
  for (const target of targets) await measureOnce(target, options, options.warmupSec);
  const samples: RoundSample[][] = targets.map(() => []);
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, target] of targets.entries()) {
      samples[i]?.push(await measureOnce(target, options, options.roundSec));
    }
  }
  return targets.map((target, i) => {
    const rows = samples[i] ?? [];
    return {
      label: target.label,
      cpuUsPerRequest: spreadOf(rows.map((s) => s.cpuUs)),
      requestsPerSec: spreadOf(rows.map((s) => s.load.requestsPerSec)),
      p50Ms: spreadOf(rows.map((s) => s.load.p50Ms)),
      otherCpuShare: spreadOf(rows.map((s) => s.otherShare)),
      failed: rows.reduce((sum, s) => sum + s.load.errors + s.load.timeouts + s.load.non2xx, 0),
      requests: rows.reduce((sum, s) => sum + s.load.requests, 0),
    };
  });
}
