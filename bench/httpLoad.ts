import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';
import { FormData, Pool, request } from 'undici';
import { cpuWindow, type CpuSample, type CpuWindow } from './processes.js';

export interface LoadOptions {
  url: string;
  /** Sent with every request (the gate's API key). */
  headers?: Record<string, string>;
  /** GET unless given; a POST sends `body` with every request. */
  method?: 'GET' | 'POST';
  body?: string;
  connections: number;
  durationSec: number;
}

export interface LoadResult {
  /** Completed responses (any status). */
  requests: number;
  durationSec: number;
  requestsPerSec: number;
  /** Response bytes of 2xx responses (autocannon also counts headers; the download runner only bodies). */
  bytes: number;
  bytesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

export interface MeasuredLoad {
  warmup: LoadResult;
  load: LoadResult;
  /** The probed process's CPU during the measured run (not the warm-up). */
  cpu: CpuWindow | undefined;
}

/**
 * One autocannon run. Latencies are taken from each response's own timing rather than autocannon's histogram,
 * which stores whole milliseconds: on loopback p50 is a few ms, and integer rounding would hide the gate's cost.
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  return new Promise<LoadResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        headers: options.headers ?? {},
        method: options.method ?? 'GET',
        ...(options.body === undefined ? {} : { body: options.body }),
        connections: options.connections,
        duration: options.durationSec,
        timeout: 10,
      },
      (error, result) => {
        if (error) {
          reject(error);
          return;
        }
        latencies.sort((a, b) => a - b);
        const durationSec = result.duration;
        resolve({
          requests: result.requests.total,
          durationSec,
          requestsPerSec: result.requests.total / durationSec,
          bytes: result.throughput.total,
          bytesPerSec: result.throughput.total / durationSec,
          p50Ms: percentile(latencies, 0.5),
          p99Ms: percentile(latencies, 0.99),
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
        });
      }
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

/**
 * Large downloads, `connections` loops each fetching one response after another on a keep-alive pool and
 * counting the body without keeping it. Not autocannon: it appends every body chunk to a JS string
 * (`req.body += data` in lib/pipelinedRequestsQueue.js), which caps it near 20–35 MiB/s on one core for a
 * 5 MiB body while curl reads the same fake at ~270 MB/s; the bench would measure autocannon, not the gate.
 */
export async function runDownloadLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  const pool = new Pool(url.origin, { connections: options.connections, bodyTimeout: 10_000, headersTimeout: 10_000 });
  const latencies: number[] = [];
  let requests = 0;
  let bytes = 0;
  let errors = 0;
  let non2xx = 0;
  const start = performance.now();
  const deadline = start + options.durationSec * 1000;
  const worker = async (): Promise<void> => {
    // Bounded by the deadline; a request already started finishes (or hits the 10 s timeouts) so it is counted.
    while (performance.now() < deadline) {
      const sent = performance.now();
      try {
        const res = await pool.request({ path: url.pathname + url.search, method: 'GET', headers: options.headers });
        let received = 0;
        for await (const chunk of res.body) received += (chunk as Buffer).length;
        requests++;
        if (res.statusCode >= 200 && res.statusCode < 300) {
          bytes += received;
          latencies.push(performance.now() - sent);
        } else {
          non2xx++;
        }
      } catch {
        errors++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.connections }, worker));
  } finally {
    await pool.close();
  }
  const durationSec = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests,
    durationSec,
    requestsPerSec: requests / durationSec,
    bytes,
    bytesPerSec: bytes / durationSec,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    errors,
    timeouts: 0,
    non2xx,
  };
}

export type LoadRunner = (options: LoadOptions) => Promise<LoadResult>;

export interface MeasureOptions extends LoadOptions {
  warmupSec: number;
  sampleCpu?: () => CpuSample;
  /**
   * Awaited between the warm-up and the measured run, and right after the measured run: for work that must
   * bracket the measured requests (a metrics scrape) without being charged to them. The CPU samples are taken
   * inside these, so what the hooks make the gate do is not in the CPU window.
   */
  beforeMeasured?: () => Promise<void>;
  afterMeasured?: () => Promise<void>;
}

/**
 * A warm-up run (JIT, connection pools, socket buffers) that is thrown away, then the measured run. When
 * `sampleCpu` is given it is read right before and right after the measured run, so the CPU window and the
 * request count cover the same requests.
 */
export async function measureLoad(options: MeasureOptions, runner: LoadRunner = runLoad): Promise<MeasuredLoad> {
  const warmup = await runner({ ...options, durationSec: options.warmupSec });
  await options.beforeMeasured?.();
  const before = options.sampleCpu?.();
  const load = await runner(options);
  const after = options.sampleCpu?.();
  await options.afterMeasured?.();
  return { warmup, load, cpu: before && after ? cpuWindow(before, after) : undefined };
}

/** Nearest-rank percentile of an ascending array; NaN when there were no samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export interface FetchedBody {
  status: number;
  body: Buffer;
}

/** A single GET, body in memory: used to check a target answers correctly before loading it. */
export async function fetchBody(url: string, headers: Record<string, string> = {}): Promise<FetchedBody> {
  const res = await request(url, { headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, body };
}

/**
 * Uploads `content` as ComfyUI's `POST /upload/image` expects (multipart, field `image`) and returns the name
 * ComfyUI stored it under, which is what `/view?filename=` must ask for.
 */
export async function uploadImage(
  baseUrl: string,
  filename: string,
  content: Buffer,
  headers: Record<string, string> = {}
): Promise<string> {
  // undici's own FormData: its request() is typed against that class, not the global one.
  const form = new FormData();
  form.append('image', new Blob([content], { type: 'image/png' }), filename);
  form.append('type', 'input');
  form.append('overwrite', 'true');
  const res = await request(`${baseUrl}/upload/image`, { method: 'POST', body: form, headers });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`upload through ${baseUrl} answered ${res.statusCode}: ${text}`);
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || !('name' in parsed) || typeof parsed.name !== 'string') {
    throw new Error(`upload answered without a file name: ${text}`);
  }
  return parsed.name;
}
