import type { ServerResponse } from 'node:http';
import { GateError, errorBody } from '../errors.js';
import type { RequestObserver } from '../observe/finishedRequest.js';
import { matchesRequest, type StatusFilter } from './requestQuery.js';
import { toLogLine, type RequestLogLine } from './requestLogLine.js';

export interface LogStreamFilter {
  /** A key id, or `anonymous`. */
  key?: string;
  status?: StatusFilter;
}

export interface LogStreamOptions {
  /** Comment line sent to idle streams so that proxies and browsers keep them open (default 15 s). */
  heartbeatMs?: number;
  /** The `retry:` a browser waits before reconnecting (default 3 s). */
  retryMs?: number;
  /** A reader with more than this queued on its response is dropped (default 1 MiB). */
  maxBufferedBytes?: number;
  /** A reader whose response stays full (write() returned false) this long is dropped (default 5 s). */
  stallMs?: number;
  /**
   * The newest request lines, newest first (RequestLog.recent): a browser that reconnects with `Last-Event-ID` gets
   * the events it missed from here instead of a gap.
   */
  recent?: () => readonly RequestLogLine[];
}

interface Client {
  res: ServerResponse;
  filter: LogStreamFilter;
  stallTimer: NodeJS.Timeout | undefined;
}

/**
 * The live log: Server-Sent Events, one `request` event per finished request. Each event is serialized once for all
 * readers. A reader that cannot keep up is disconnected rather than buffered for: the gate never waits for a
 * dashboard, and memory per reader stays bounded. The browser's EventSource reconnects by itself.
 */
export class LogStream {
  readonly #heartbeatMs: number;
  readonly #retryMs: number;
  readonly #maxBufferedBytes: number;
  readonly #stallMs: number;
  readonly #recent: (() => readonly RequestLogLine[]) | undefined;
  readonly #clients = new Set<Client>();
  #heartbeat: NodeJS.Timeout | undefined;
  #dropped = 0;
  #closed = false;

  constructor(options: LogStreamOptions = {}) {
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#retryMs = options.retryMs ?? 3_000;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.#stallMs = options.stallMs ?? 5_000;
    this.#recent = options.recent;
  }

  /** Readers attached now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Readers disconnected for being too slow, since start. */
  get droppedClients(): number {
    return this.#dropped;
  }

  /**
   * Takes over the response for as long as the reader stays; the caller has already checked who it is.
   * `lastEventId` is the request's Last-Event-ID header: the events after it are replayed when still in memory.
   */
  attach(res: ServerResponse, filter: LogStreamFilter = {}, lastEventId?: string): void {
    if (this.#closed) {
      const error = new GateError('shutting_down', 'The gate is shutting down');
      res.writeHead(error.status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(errorBody(error.code, error.message));
      return;
    }
    // Our own stall detection replaces the socket's idle timeout on this long-lived response.
    res.setTimeout(0);
    res.socket?.setNoDelay(true);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // nginx and similar buffer responses unless told otherwise; events would arrive in lumps.
      'x-accel-buffering': 'no',
    });
    const client: Client = { res, filter, stallTimer: undefined };
    this.#clients.add(client);
    res.on('close', () => this.#detach(client));
    res.on('error', () => this.#detach(client));
    this.#send(client, `retry: ${this.#retryMs}\n: connected\n\n`);
    if (lastEventId) this.#replay(client, lastEventId);
    this.#startHeartbeat();
  }

  readonly observe: RequestObserver = (finished) => {
    if (this.#clients.size === 0) return;
    try {
      const line = toLogLine(finished);
      let event: string | undefined;
      for (const client of this.#clients) {
        if (!matchesRequest(client.filter, line)) continue;
        event ??= formatEvent(line);
        this.#send(client, event);
      }
    } catch {
      // An observer must not throw into the gate; a lost live event is harmless.
    }
  };

  /** Ends every stream (shutdown): the server can then close without waiting for dashboards. */
  close(): void {
    this.#closed = true;
    this.#stopHeartbeat();
    for (const client of this.#clients) {
      this.#detach(client);
      // A reader with unsent data would hold the server's close() open: it loses the rest.
      if (client.res.writableLength > 0) client.res.destroy();
      else client.res.end();
    }
  }

  #replay(client: Client, lastEventId: string): void {
    const recent = this.#recent?.() ?? [];
    const seen = recent.findIndex((line) => eventId(line) === lastEventId);
    // Unknown (or too old to be in memory): no replay rather than a guess.
    for (let i = seen - 1; i >= 0; i--) {
      const line = recent[i]!;
      if (matchesRequest(client.filter, line)) this.#send(client, formatEvent(line));
    }
  }

  #send(client: Client, chunk: string): void {
    const res = client.res;
    if (res.writableEnded || res.destroyed) {
      this.#detach(client);
      return;
    }
    if (res.writableLength > this.#maxBufferedBytes) {
      this.#drop(client);
      return;
    }
    if (res.write(chunk) || client.stallTimer) return;
    client.stallTimer = setTimeout(() => this.#drop(client), this.#stallMs);
    client.stallTimer.unref();
    res.once('drain', () => {
      clearTimeout(client.stallTimer);
      client.stallTimer = undefined;
    });
  }

  #drop(client: Client): void {
    if (!this.#clients.has(client)) return;
    this.#dropped++;
    this.#detach(client);
    // destroy, not end: end would queue behind the data the reader is not reading and keep it all in memory.
    client.res.destroy();
  }

  #detach(client: Client): void {
    if (!this.#clients.delete(client)) return;
    clearTimeout(client.stallTimer);
    client.stallTimer = undefined;
    if (this.#clients.size === 0) this.#stopHeartbeat();
  }

  #startHeartbeat(): void {
    if (this.#heartbeat) return;
    this.#heartbeat = setInterval(() => {
      for (const client of this.#clients) this.#send(client, ': ping\n\n');
    }, this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}

/** An SSE field ends at a line break, so the id must not carry one. */
function eventId(line: RequestLogLine): string {
  return line.requestId.replace(/[\r\n]/g, '');
}

function formatEvent(line: RequestLogLine): string {
  return `id: ${eventId(line)}\nevent: request\ndata: ${JSON.stringify(line)}\n\n`;
}
