import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type Aggregator,
  type HistogramConfiguration,
} from 'prom-client';
import type { ErrorCode } from '../errors.js';
import { scopeSchema } from '../keys/keySchema.js';
import type { FinishedRequest, RequestObserver } from '../observe/finishedRequest.js';
import type { RouteClass } from '../pipeline/routeClasses.js';

/** Label value for requests the gate answered before it classified the route (bad path, refused credential). */
const NO_ROUTE_CLASS = 'none';
const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/**
 * From a cached `/view` thumbnail (~1 ms) to a long upload or a slow upstream (60 s, the proxy's own
 * patience); anything slower lands in +Inf, which is a finding in itself.
 */
export const DURATION_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

export interface GateMetricsOptions {
  /**
   * Read at scrape time, so the number is exact without the WebSocket code pushing every change.
   * When given, `setOpenWebSockets` is ignored.
   */
  openWebSockets?: () => number;
  /** Read at scrape time: what request bodies being checked hold now, and what they may hold. */
  bodyBudget?: { readonly inUse: number; readonly limitBytes: number };
  /**
   * Read at scrape time: the prompts each caller has queued or running (limits/promptTracker.ts) and the
   * name the gauge shows for a caller (its key's). A name no longer counted drops to 0.
   */
  queuedPrompts?: QueuedPromptsReader;
  /** Node process metrics (CPU, memory, event loop lag, GC) with the `comfygate_` prefix. Default true. */
  defaultMetrics?: boolean;
}

export interface QueuedPromptsReader {
  counts(): Iterable<readonly [subject: string, count: number]>;
  nameOf(subject: string): string;
}

interface CounterChild {
  inc(value?: number): void;
}

/** The shape prom-client's registry formats a histogram from (Histogram#getForPromString; its typings omit it). */
interface HistogramValues {
  name: string;
  help: string;
  type: 'histogram';
  aggregator: Aggregator;
  values: Array<{
    labels: Record<string, string | number>;
    sharedLabels: Record<string, string>;
    value: number;
    metricName: string;
  }>;
}

/**
 * A histogram without labels counted in a typed array: prom-client's own `observe` builds a value object and a label
 * hash and checks the labels on every call, on every request of the gate. prom-client still formats it at scrape
 * time (its `get` and the registry's text both read `getForPromString`).
 */
class CountedHistogram extends Histogram {
  readonly #name: string;
  readonly #help: string;
  readonly #bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last slot is above every bound (+Inf). */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(config: HistogramConfiguration<string> & { buckets: number[] }) {
    super(config);
    this.#name = config.name;
    this.#help = config.help;
    this.#bounds = config.buckets;
    this.#counts = new Float64Array(config.buckets.length + 1);
  }

  record(value: number): void {
    let bucket = 0;
    while (bucket < this.#bounds.length && value > this.#bounds[bucket]!) bucket++;
    this.#counts[bucket]!++;
    this.#sum += value;
    this.#count++;
  }

  getForPromString(): Promise<HistogramValues> {
    const bucketName = `${this.#name}_bucket`;
    const values: HistogramValues['values'] = [];
    let cumulative = 0;
    this.#bounds.forEach((bound, i) => {
      cumulative += this.#counts[i]!;
      values.push({ labels: { le: bound }, sharedLabels: {}, value: cumulative, metricName: bucketName });
    });
    values.push(
      { labels: { le: '+Inf' }, sharedLabels: {}, value: this.#count, metricName: bucketName },
      { labels: {}, sharedLabels: {}, value: this.#sum, metricName: `${this.#name}_sum` },
      { labels: {}, sharedLabels: {}, value: this.#count, metricName: `${this.#name}_count` }
    );
    return Promise.resolve({ name: this.#name, help: this.#help, type: 'histogram', aggregator: 'sum', values });
  }
}

/**
 * The gate's Prometheus metrics, in a registry of its own: a second gate in the same process (tests,
 * the desktop app restarting its gate) or a library using prom-client's global registry cannot clash.
 */
export class GateMetrics {
  readonly registry = new Registry();
  readonly contentType: string = this.registry.contentType;

  readonly #requests: Counter<'status_class' | 'route_class'>;
  readonly #duration: CountedHistogram;
  readonly #upstreamReachable: Gauge;
  readonly #openWebSockets: Gauge;
  readonly #queuedPrompts: Gauge<'key'>;
  readonly #refusals: Counter<'code'>;
  readonly #lockouts: Counter;
  readonly #gpuSeconds: Counter<'key'>;
  readonly #readOpenWebSockets: (() => number) | undefined;

  /** Route class → its column in the request counts. */
  readonly #routeColumns: ReadonlyMap<string, number>;
  /**
   * Finished requests per [status class × route class], counted here and handed to the counter's children at
   * scrape time: a child's `inc` hashes its labels on every call, and the hot path should only add one.
   */
  readonly #requestCounts: Float64Array;
  readonly #requestCountsShown: Float64Array;
  readonly #requestChildren: readonly CounterChild[];
  readonly #refusalChildren = new Map<string, CounterChild>();

  constructor(options: GateMetricsOptions = {}) {
    const registers = [this.registry];
    this.#readOpenWebSockets = options.openWebSockets;
    const readOpenWebSockets = options.openWebSockets;

    const routeClasses: ReadonlyArray<RouteClass | typeof NO_ROUTE_CLASS> = [...scopeSchema.options, NO_ROUTE_CLASS];
    this.#routeColumns = new Map(routeClasses.map((routeClass, column) => [routeClass, column]));
    this.#requestCounts = new Float64Array(STATUS_CLASSES.length * routeClasses.length);
    this.#requestCountsShown = new Float64Array(this.#requestCounts.length);
    const showRequestCounts = (): void => this.#showRequestCounts();
    this.#requests = new Counter({
      name: 'comfygate_requests_total',
      help: 'Proxied requests and WebSocket sessions that finished, by status class and ComfyUI route class',
      labelNames: ['status_class', 'route_class'] as const,
      registers,
      collect: showRequestCounts,
    });
    this.#requestChildren = STATUS_CLASSES.flatMap((statusClass) =>
      routeClasses.map((routeClass) => this.#requests.labels({ status_class: statusClass, route_class: routeClass }))
    );
    this.#duration = new CountedHistogram({
      name: 'comfygate_request_duration_seconds',
      help: 'Time from request to the end of the response for proxied HTTP requests (WebSocket sessions excluded)',
      buckets: [...DURATION_BUCKETS_SECONDS],
      registers,
    });
    this.#upstreamReachable = new Gauge({
      name: 'comfygate_upstream_reachable',
      help: '1 when the last probe reached ComfyUI, 0 when it did not',
      registers,
    });
    this.#openWebSockets = new Gauge({
      name: 'comfygate_open_websockets',
      help: 'Client WebSockets currently relayed to ComfyUI',
      registers,
      collect: readOpenWebSockets
        ? function collect(this: Gauge) {
            this.set(readOpenWebSockets());
          }
        : undefined,
    });
    const queuedPrompts = options.queuedPrompts;
    let queuedShown = new Set<string>();
    this.#queuedPrompts = new Gauge({
      name: 'comfygate_queued_prompts',
      help: 'Prompts a key has queued or running in ComfyUI right now',
      labelNames: ['key'] as const,
      registers,
      collect: queuedPrompts
        ? function collect(this: Gauge<'key'>) {
            const shown = new Set<string>();
            for (const [subject, count] of queuedPrompts.counts()) {
              const name = queuedPrompts.nameOf(subject);
              shown.add(name);
              this.set({ key: name }, count);
            }
            for (const name of queuedShown) if (!shown.has(name)) this.set({ key: name }, 0);
            queuedShown = shown;
          }
        : undefined,
    });
    this.#refusals = new Counter({
      name: 'comfygate_limit_refusals_total',
      help: 'Requests refused with 429 by a limit, by the refusal code (rate_limit_minute, …)',
      labelNames: ['code'] as const,
      registers,
    });
    const bodyBudget = options.bodyBudget;
    if (bodyBudget) {
      new Gauge({
        name: 'comfygate_inspected_body_bytes',
        help: 'Memory held by request bodies the gate is reading to check them (prompts, queue edits)',
        registers,
        collect(this: Gauge) {
          this.set(bodyBudget.inUse);
        },
      });
      new Gauge({
        name: 'comfygate_inspected_body_budget_bytes',
        help: 'What request bodies being checked may hold at once; past it the gate answers 503',
        registers,
        collect(this: Gauge) {
          this.set(bodyBudget.limitBytes);
        },
      });
    }
    this.#lockouts = new Counter({
      name: 'comfygate_lockouts_total',
      help: 'Client addresses locked out after repeated wrong credentials',
      registers,
    });

    this.#gpuSeconds = new Counter({
      name: 'comfygate_gpu_seconds_total',
      help: 'Seconds ComfyUI spent executing prompts, by the key id that queued them ("anonymous" without a key)',
      labelNames: ['key'] as const,
      registers,
    });

    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'comfygate_' });
  }

  /**
   * The `RequestObserver` to register with the proxy: one counter and (HTTP only) one histogram update.
   * WebSocket sessions last minutes to hours, so their length would drown the request latencies.
   * Limit refusals are not counted here; the limiter calls `countRefusal` where it refuses.
   */
  readonly observe: RequestObserver = (finished: FinishedRequest): void => {
    const statusIndex = Math.floor(finished.status / 100);
    const row = statusIndex >= 1 && statusIndex <= 5 ? statusIndex : 0;
    const column = this.#routeColumns.get(finished.routeClass ?? NO_ROUTE_CLASS);
    if (column !== undefined) this.#requestCounts[row * this.#routeColumns.size + column]!++;
    // A clock step can make a duration negative, and a NaN would spoil the sum for good.
    if (finished.kind === 'http' && finished.durationMs >= 0 && Number.isFinite(finished.durationMs)) {
      this.#duration.record(finished.durationMs / 1000);
    }
  };

  /** Hands the counter's children what was counted since the last scrape. */
  #showRequestCounts(): void {
    const counts = this.#requestCounts;
    const shown = this.#requestCountsShown;
    for (let cell = 0; cell < counts.length; cell++) {
      const added = counts[cell]! - shown[cell]!;
      if (added === 0) continue;
      this.#requestChildren[cell]?.inc(added);
      shown[cell] = counts[cell]!;
    }
  }

  setUpstreamReachable(reachable: boolean): void {
    this.#upstreamReachable.set(reachable ? 1 : 0);
  }

  /** Ignored when an `openWebSockets` reader was passed to the constructor. */
  setOpenWebSockets(count: number): void {
    if (!this.#readOpenWebSockets) this.#openWebSockets.set(count);
  }

  setQueuedPrompts(keyName: string, count: number): void {
    this.#queuedPrompts.set({ key: keyName }, count);
  }

  /** Drops a deleted or renamed key's series, so the label set does not grow with every key ever made. */
  forgetKey(keyName: string): void {
    this.#queuedPrompts.remove({ key: keyName });
  }

  countRefusal(code: ErrorCode): void {
    let child = this.#refusalChildren.get(code);
    if (!child) {
      child = this.#refusals.labels({ code });
      this.#refusalChildren.set(code, child);
    }
    child.inc();
  }

  countLockout(): void {
    this.#lockouts.inc();
  }

  /** One prompt's execution time; `keyId` is the key's id, or 'anonymous' for every caller without a key. */
  countGpuSeconds(keyId: string, seconds: number): void {
    if (Number.isFinite(seconds) && seconds > 0) this.#gpuSeconds.inc({ key: keyId }, seconds);
  }

  /** The exposition text (Prometheus text format 0.0.4) for `GET /gate/metrics`. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
