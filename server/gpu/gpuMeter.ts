import type { Logger } from '../appLog/logger.js';
import { anonymousSubject } from '../limits/limitStep.js';
import type { Exchange } from '../pipeline/exchange.js';
import { fetchQueue } from '../isolation/comfyQueue.js';
import type { Upstream } from '../upstream/upstream.js';
import { executionSpan, type ExecutionOutcome } from './executionSpan.js';
import { QueueMonitor } from './queueMonitor.js';

/** One finished prompt's GPU time, by ComfyUI's own timestamps. */
export interface GpuMeasurement {
  promptId: string;
  subject: string;
  seconds: number;
  outcome: ExecutionOutcome;
}

export interface GpuMeterOptions {
  upstream: Upstream;
  onMeasured: (measurement: GpuMeasurement) => void;
  logger: Logger;
  /** The fallback look at ComfyUI's queue while prompts are outstanding, should the monitor socket miss a change. */
  pollIntervalMs?: number;
  handshakeTimeoutMs: number;
  /** Whether a stamped prompt in ComfyUI's queue is this gate's to measure (with Redis: not one another gate queued). */
  mayAdopt?: (promptId: string) => boolean;
}

export const DEFAULT_POLL_INTERVAL_MS = 3_000;
/** ComfyUI keeps 10 000 history entries; waiting for more prompts than that could never end. */
const MAX_OUTSTANDING = 10_000;
/** Looks at /history for a prompt that left the queue before giving it up (deleted before it ran, or history cleared). */
const MAX_MISSES = 5;
/** Measured prompts remembered, so one still listed by a /queue answer that raced its end is not adopted again. */
const MAX_MEASURED = 1_000;
const HISTORY_TIMEOUT_MS = 5_000;
const FINISH_MARKER = Buffer.from('"execution_');

interface Outstanding {
  subject: string;
  misses: number;
}

/**
 * Waits for every prompt accepted through the gate to leave ComfyUI's queue, then reads its execution
 * timestamps from `/history/{prompt_id}` (comfyui-protocol.md §6.3): the same for prompts of WebSocket
 * clients and of scripts that only poll, and for ones that failed or were interrupted. What tells it to
 * look: the monitor socket's `status` broadcasts, relayed frames that end a prompt, and a slow poll
 * while anything is outstanding. Prompts in ComfyUI's queue that carry the gate's owner stamp are
 * adopted, so a restart of the gate loses none. Without ComfyUI it keeps waiting, bounded.
 */
export class GpuMeter {
  readonly #options: GpuMeterOptions;
  readonly #outstanding = new Map<string, Outstanding>();
  readonly #measured = new Set<string>();
  readonly #monitor: QueueMonitor;
  readonly #pollIntervalMs: number;
  #checking: Promise<void> | undefined;
  #checkAgain = false;
  #poll: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: GpuMeterOptions) {
    this.#options = options;
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.#monitor = new QueueMonitor({
      upstreamUrl: options.upstream.url,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      onQueueChange: () => void this.checkSoon(),
    });
  }

  /** ComfyUI's answer: a prompt it accepted is measured for whoever queued it; prompts it deleted are not. */
  onResponse(exchange: Exchange, status: number): void {
    if (status !== 200) return;
    if (exchange.promptId !== null) {
      this.track(exchange.promptId, exchange.limitSubject ?? anonymousSubject(exchange.clientIp));
    }
    if (exchange.deletedPrompts) for (const id of exchange.deletedPrompts) this.forget(id);
  }

  /** A prompt ComfyUI accepted; `subject` is whom its GPU time counts for. */
  track(promptId: string, subject: string): void {
    if (this.#closed || this.#measured.has(promptId)) return;
    this.#outstanding.delete(promptId);
    this.#outstanding.set(promptId, { subject, misses: 0 });
    if (this.#outstanding.size > MAX_OUTSTANDING) {
      const oldest = this.#outstanding.keys().next();
      if (!oldest.done) this.#outstanding.delete(oldest.value);
    }
    this.#waiting();
  }

  /** A prompt deleted from the queue before it ran: nothing to measure. */
  forget(promptId: string): void {
    if (this.#outstanding.delete(promptId)) this.#waiting();
  }

  get outstanding(): number {
    return this.#outstanding.size;
  }

  /**
   * A relayed ComfyUI text frame: one that may end a prompt makes the meter look now. Most frames are
   * progress, so a byte search comes first.
   */
  readonly onUpstreamText = (frame: Buffer): void => {
    if (this.#outstanding.size > 0 && frame.indexOf(FINISH_MARKER) !== -1) void this.checkSoon();
  };

  /** Looks at ComfyUI's queue and the history of prompts that left it; one look at a time, coalescing requests. */
  checkSoon(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#checking !== undefined) {
      this.#checkAgain = true;
      return this.#checking;
    }
    this.#checking = (async () => {
      do {
        this.#checkAgain = false;
        await this.#check().catch((error: unknown) =>
          this.#options.logger.warn({ err: error }, 'could not measure GPU time')
        );
      } while (this.#checkAgain && !this.#closed);
      this.#checking = undefined;
      this.#waiting();
    })();
    return this.#checking;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#poll);
    this.#monitor.close();
  }

  async #check(): Promise<void> {
    const queue = await fetchQueue(this.#options.upstream);
    if (queue === undefined || this.#closed) return;
    const live = new Set<string>();
    for (const prompt of [...queue.running, ...queue.pending]) {
      live.add(prompt.id);
      if (
        prompt.owner !== undefined &&
        !this.#outstanding.has(prompt.id) &&
        !this.#measured.has(prompt.id) &&
        this.#options.mayAdopt?.(prompt.id) !== false
      ) {
        this.#outstanding.set(prompt.id, { subject: prompt.owner, misses: 0 });
      }
    }
    for (const [promptId, waiting] of [...this.#outstanding]) {
      if (live.has(promptId) || this.#closed) continue;
      const answer = await this.#history(promptId);
      if (answer === undefined) return;
      const span = executionSpan(answer, promptId);
      if (span === undefined) {
        if (++waiting.misses >= MAX_MISSES) this.#outstanding.delete(promptId);
        continue;
      }
      this.#outstanding.delete(promptId);
      this.#remember(promptId);
      this.#options.onMeasured({ promptId, subject: waiting.subject, seconds: span.seconds, outcome: span.outcome });
    }
  }

  /** The parsed `/history/{id}` answer; undefined when ComfyUI did not give one (it is asked again later). */
  async #history(promptId: string): Promise<unknown> {
    try {
      const res = await this.#options.upstream.pool.request({
        path: `/history/${encodeURIComponent(promptId)}`,
        method: 'GET',
        headersTimeout: HISTORY_TIMEOUT_MS,
        bodyTimeout: HISTORY_TIMEOUT_MS,
      });
      const text = await res.body.text();
      return res.statusCode === 200 ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      return undefined;
    }
  }

  #remember(promptId: string): void {
    this.#measured.add(promptId);
    if (this.#measured.size > MAX_MEASURED) {
      const oldest = this.#measured.values().next();
      if (!oldest.done) this.#measured.delete(oldest.value);
    }
  }

  /** The monitor socket and the poll run only while some prompt is outstanding. */
  #waiting(): void {
    if (this.#closed) return;
    const waiting = this.#outstanding.size > 0;
    this.#monitor.want(waiting);
    if (!waiting) {
      clearTimeout(this.#poll);
      this.#poll = undefined;
    } else if (this.#poll === undefined && this.#checking === undefined) {
      this.#poll = setTimeout(() => {
        this.#poll = undefined;
        void this.checkSoon();
      }, this.#pollIntervalMs).unref();
    }
  }
}
