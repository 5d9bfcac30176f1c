import { randomUUID } from 'node:crypto';
import { WebSocket, type RawData } from 'ws';

export interface QueueMonitorOptions {
  /** ComfyUI's base URL (http or https). */
  upstreamUrl: string;
  /** ComfyUI's `status` broadcast arrived: its queue changed (a prompt was queued, started or finished). */
  onQueueChange: () => void;
  handshakeTimeoutMs: number;
}

const FIRST_RETRY_MS = 1_000;
const LAST_RETRY_MS = 30_000;

/**
 * The gate's own WebSocket to ComfyUI, open only while the gate waits for prompts to finish. ComfyUI
 * broadcasts `status` to every socket on each queue change, so the end of a prompt queued by a script
 * that never opened a WebSocket is seen at once. The socket has its own clientId, so no prompt's
 * messages are aimed at it. While ComfyUI is down it retries with a growing pause.
 */
export class QueueMonitor {
  readonly #options: QueueMonitorOptions;
  readonly #url: string;
  #socket: WebSocket | undefined;
  #wanted = false;
  #retryMs = FIRST_RETRY_MS;
  #retry: NodeJS.Timeout | undefined;

  constructor(options: QueueMonitorOptions) {
    this.#options = options;
    const clientId = `comfygate-gpu-${randomUUID().replace(/-/g, '')}`;
    this.#url = `${options.upstreamUrl.replace(/^http/, 'ws').replace(/\/+$/, '')}/ws?clientId=${clientId}`;
  }

  /** Opens the socket when wanted and closes it when not; calling it again with the same value does nothing. */
  want(wanted: boolean): void {
    if (wanted === this.#wanted) return;
    this.#wanted = wanted;
    if (wanted) this.#connect();
    else this.#disconnect();
  }

  close(): void {
    this.want(false);
  }

  #connect(): void {
    if (!this.#wanted || this.#socket !== undefined) return;
    const socket = new WebSocket(this.#url, { handshakeTimeout: this.#options.handshakeTimeoutMs });
    this.#socket = socket;
    socket.on('open', () => {
      this.#retryMs = FIRST_RETRY_MS;
      // Changes while it was away are caught up with one look at the queue.
      this.#options.onQueueChange();
    });
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary && isStatusMessage(data)) this.#options.onQueueChange();
    });
    // 'close' follows every error; the retry is planned there.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (!this.#wanted) return;
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.#connect();
      }, this.#retryMs).unref();
      this.#retryMs = Math.min(this.#retryMs * 2, LAST_RETRY_MS);
    });
  }

  #disconnect(): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    this.#retryMs = FIRST_RETRY_MS;
    if (socket === undefined) return;
    if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    else socket.close(1000, 'No prompts to wait for');
  }
}

function isStatusMessage(data: RawData): boolean {
  const text = Array.isArray(data)
    ? Buffer.concat(data).toString('utf8')
    : Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Buffer.from(new Uint8Array(data)).toString('utf8');
  try {
    const message: unknown = JSON.parse(text);
    return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'status';
  } catch {
    return false;
  }
}
