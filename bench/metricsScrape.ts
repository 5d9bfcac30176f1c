// The gate's own view of its event loop, read from `GET /gate/metrics` (prom-client's default metrics).
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchBody } from './httpLoad.js';
import type { Outcome } from './report.js';

/** prom-client's event-loop gauges under the gate's `comfygate_` prefix, in seconds. */
const LAG_METRIC = {
  p50: 'comfygate_nodejs_eventloop_lag_p50_seconds',
  p90: 'comfygate_nodejs_eventloop_lag_p90_seconds',
  p99: 'comfygate_nodejs_eventloop_lag_p99_seconds',
  max: 'comfygate_nodejs_eventloop_lag_max_seconds',
  mean: 'comfygate_nodejs_eventloop_lag_mean_seconds',
} as const;

/**
 * prom-client's `eventLoopMonitoringPrecision`, which the gate leaves at its default: Node's monitorEventLoopDelay
 * then wakes every 10 ms and records the time between wake-ups, so an idle loop reads about 10 ms, not 0.
 */
export const LAG_SAMPLING_INTERVAL_MS = 10;

/** Event-loop delay over the window between two scrapes, in ms, as the gauges report it (interval included). */
export interface EventLoopLag {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/**
 * Prometheus text format, one sample a line: `name{labels} value [timestamp]`. Keyed by name plus labels as
 * written, so unlabelled series are found by their bare name.
 */
export function parsePrometheusText(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*(?:\{.*\})?)\s+(\S+)/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) samples.set(match[1], Number(match[2]));
  }
  return samples;
}

export async function scrapeMetrics(baseUrl: string, headers: Record<string, string>): Promise<Map<string, number>> {
  const { status, body } = await fetchBody(`${baseUrl}/gate/metrics`, headers);
  if (status !== 200) {
    throw new Error(`GET /gate/metrics answered ${status}: ${body.subarray(0, 200).toString()}`);
  }
  return parsePrometheusText(body.toString());
}

function eventLoopLagOf(samples: ReadonlyMap<string, number>): EventLoopLag {
  const ms = (name: string): number => {
    const seconds = samples.get(name);
    if (seconds === undefined) {
      const lagNames = [...samples.keys()].filter((n) => n.includes('eventloop'));
      throw new Error(`no ${name} in /gate/metrics (event-loop series there: ${lagNames.join(', ') || 'none'})`);
    }
    return seconds * 1000;
  };
  return {
    p50Ms: ms(LAG_METRIC.p50),
    p90Ms: ms(LAG_METRIC.p90),
    p99Ms: ms(LAG_METRIC.p99),
    maxMs: ms(LAG_METRIC.max),
    meanMs: ms(LAG_METRIC.mean),
  };
}

/**
 * prom-client fills the percentile gauges from a `monitorEventLoopDelay` histogram and resets that histogram on
 * every scrape, so a scrape right before the measured run starts the window and one right after reads it.
 * Failures are kept as the outcome instead of failing the load they bracket.
 */
export class EventLoopProbe {
  #outcome: Outcome<EventLoopLag> = { ok: false, error: 'not scraped' };
  #started = false;

  constructor(
    private readonly baseUrl: string,
    private readonly headers: Record<string, string>
  ) {}

  readonly start = async (): Promise<void> => {
    try {
      await scrapeMetrics(this.baseUrl, this.headers);
      this.#started = true;
    } catch (error) {
      this.#outcome = { ok: false, error: `scrape before the run: ${messageOf(error)}` };
    }
  };

  readonly finish = async (): Promise<void> => {
    if (!this.#started) return;
    try {
      this.#outcome = { ok: true, value: eventLoopLagOf(await scrapeMetrics(this.baseUrl, this.headers)) };
    } catch (error) {
      this.#outcome = { ok: false, error: `scrape after the run: ${messageOf(error)}` };
    }
  };

  get outcome(): Outcome<EventLoopLag> {
    return this.#outcome;
  }
}

/** Whether the gate writes a request log, judged by what it left in `<dataDir>/logs/`. */
export interface RequestLogState {
  on: boolean;
  /** `requests*` files found, with their total size. */
  files: string[];
  bytes: number;
}

export async function detectRequestLog(dataDir: string): Promise<RequestLogState> {
  const logsDir = join(dataDir, 'logs');
  let names: string[];
  try {
    names = await readdir(logsDir);
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return { on: false, files: [], bytes: 0 };
    throw error;
  }
  const files = names.filter((name) => name.startsWith('requests')).sort();
  const sizes = await Promise.all(files.map(async (name) => (await stat(join(logsDir, name))).size));
  return { on: files.length > 0, files, bytes: sizes.reduce((sum, size) => sum + size, 0) };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
