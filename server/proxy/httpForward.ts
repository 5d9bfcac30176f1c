import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { withoutTokenParam } from '../pipeline/credentials.js';
import { GateError, sendError } from '../errors.js';
import { sendRefusal } from '../pages/proxiedRefusal.js';
import { ASK_WIDER } from '../pipeline/answerFilter.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './forwardHeaders.js';
import type { Exchange } from '../pipeline/exchange.js';
import type { Upstream } from '../upstream/upstream.js';
import { classifyUpstreamError } from '../upstream/upstreamErrors.js';

export interface ForwardOptions {
  upstream: Upstream;
  /** Longest wait for ComfyUI's response headers, and for each gap between body chunks. */
  timeoutMs: number;
  /** Told ComfyUI's status once its response starts (prompt accounting, queue slots). */
  onResponse: (exchange: Exchange, statusCode: number) => void;
}

/** The largest ComfyUI answer the gate rewrites for team isolation (a full /history can be big). */
const MAX_FILTERED_BYTES = 256 << 20;

const CLIENT_GONE = new Error('client closed the connection');

/**
 * Streams one request to ComfyUI and its answer back, through undici's lowest-level dispatch API:
 * one handler object per request, backpressure both ways, no buffering of bodies (except the few
 * small JSON bodies the body checks already read and may have rewritten).
 */
export function createForwarder({
  upstream,
  timeoutMs,
  onResponse,
}: ForwardOptions): (exchange: Exchange, res: ServerResponse) => void {
  const pool = upstream.pool;
  const upstreamUrl = upstream.url;
  return function forward(exchange, res) {
    const req = exchange.req;
    const body = exchange.body;
    let headers: string[];
    try {
      headers = upstreamRequestHeaders(req, exchange.clientIp, exchange.secure, body ? byteLength(body) : undefined);
      // An answer the gate rewrites must come as plain text, not compressed.
      if (exchange.answerFilter !== null) headers = replaceHeader(headers, 'accept-encoding', 'identity');
      // The caller's own ComfyUI user, whatever Comfy-User they sent.
      if (exchange.comfyUser !== null) headers = replaceHeader(headers, 'comfy-user', exchange.comfyUser);
    } catch {
      sendError(
        res,
        new GateError('bad_request', 'The request headers could not be read'),
        undefined,
        exchange.requestId
      );
      return;
    }
    const path = withoutTokenParam(req.url ?? '/');
    // One piece goes out as one write; pieces (an edited prompt) one after the other, never joined.
    const outgoing = body
      ? body.length === 1
        ? body[0]!
        : Readable.from(body)
      : hasBody(req)
        ? (exchange.bodyFilter?.(req) ?? req)
        : null;
    send(exchange, res, headers, path, outgoing);
  };

  function send(
    exchange: Exchange,
    res: ServerResponse,
    headers: string[],
    path: string,
    body: Buffer | Readable | null
  ): void {
    const filter = exchange.answerFilter;
    // Asked again, wider, when ComfyUI's answer held too few of the caller's own entries.
    const askAgain = filter === null ? null : () => send(exchange, res, headers, path, body);
    const handler = new ForwardHandler(exchange, res, upstream, onResponse, askAgain);
    res.once('close', handler.onClientClose);
    pool.dispatch(
      {
        origin: upstreamUrl,
        path: filter === null ? path : filter.upstreamPath(path),
        method: exchange.req.method ?? 'GET',
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      handler
    );
  }
}

/** `headers` ([name, value, …], names lower case) with every `name` header replaced by one `value`. */
function replaceHeader(headers: string[], name: string, value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (headers[i] !== name) out.push(headers[i]!, headers[i + 1]!);
  }
  out.push(name, value);
  return out;
}

function byteLength(pieces: readonly Buffer[]): number {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  return length;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** Routes that hand out files users uploaded or saved: ComfyUI serves them by guessed type. */
function servesUserFiles(path: string): boolean {
  return path === '/view' || path.startsWith('/userdata/');
}

const INLINE_MEDIA = /^(image\/(png|jpeg|gif|webp|avif|bmp)|video\/|audio\/)/i;

/**
 * The session cookie lives on this origin, so an uploaded HTML or SVG file rendered inline would be
 * stored XSS. Anything that is not plain raster media is served as a download; fetch() callers
 * (the ComfyUI frontend loading a workflow) are unaffected.
 */
function forceDownloadUnlessMedia(headers: OutgoingHttpHeaders): void {
  const type = headers['content-type'];
  if (typeof type === 'string' && INLINE_MEDIA.test(type)) return;
  const disposition = headers['content-disposition'];
  const filename = typeof disposition === 'string' ? /filename="?([^";]*)"?/i.exec(disposition)?.[1] : undefined;
  headers['content-disposition'] = filename ? `attachment; filename="${filename}"` : 'attachment';
}

function withExtraHeaders(headers: OutgoingHttpHeaders, extra: readonly string[] | null): OutgoingHttpHeaders {
  if (extra) for (let i = 0; i + 1 < extra.length; i += 2) headers[extra[i]!.toLowerCase()] = extra[i + 1]!;
  return headers;
}

/** A 200 answer held back until it is complete, to be rewritten for an isolated caller. */
interface HeldResponse {
  statusCode: number;
  headers: OutgoingHttpHeaders;
  chunks: Buffer[];
  size: number;
}

class ForwardHandler implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined;
  #clientGone = false;
  #held: HeldResponse | null = null;

  constructor(
    private readonly exchange: Exchange,
    private readonly res: ServerResponse,
    private readonly upstream: Upstream,
    private readonly onResponse: (exchange: Exchange, statusCode: number) => void,
    private readonly askAgain: (() => void) | null
  ) {}

  readonly onClientClose = (): void => {
    if (this.res.writableFinished) return;
    this.#clientGone = true;
    this.#controller?.abort(CLIENT_GONE);
  };

  readonly #resume = (): void => {
    this.#controller?.resume();
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#clientGone) controller.abort(CLIENT_GONE);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string
  ): void {
    const exchange = this.exchange;
    exchange.upstreamMs = performance.now() - exchange.startedAt;
    if (this.upstream.reachable !== true) this.upstream.markReachable(true);
    const out = withExtraHeaders(clientResponseHeaders(headers), exchange.responseHeaders);
    if (servesUserFiles(exchange.path)) forceDownloadUnlessMedia(out);
    if (exchange.answerFilter !== null && statusCode === 200) {
      this.#held = { statusCode, headers: out, chunks: [], size: 0 };
      this.onResponse(exchange, statusCode);
      return;
    }
    if (statusMessage) this.res.writeHead(statusCode, statusMessage, out);
    else this.res.writeHead(statusCode, out);
    this.onResponse(exchange, statusCode);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const held = this.#held;
    if (held) {
      held.size += chunk.length;
      if (held.size > MAX_FILTERED_BYTES) {
        this.#held = null;
        this.#refuseHeld('ComfyUI answered with more than the gate can filter; ask for fewer items (max_items)');
        controller.abort(CLIENT_GONE);
        return;
      }
      held.chunks.push(chunk);
      return;
    }
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', this.#resume);
    }
  }

  onResponseEnd(): void {
    const held = this.#held;
    if (held) this.#sendFiltered(held);
    else this.res.end();
  }

  /** Rewrites the held answer through the exchange's filter; what the gate cannot read is not passed on. */
  #sendFiltered(held: HeldResponse): void {
    const exchange = this.exchange;
    const encoding = held.headers['content-encoding'];
    const text =
      encoding === undefined || encoding === 'identity'
        ? exchange.answerFilter!.rewrite(Buffer.concat(held.chunks, held.size).toString('utf8'))
        : undefined;
    if (text === ASK_WIDER && this.askAgain) {
      this.res.off('close', this.onClientClose);
      this.askAgain();
      return;
    }
    if (text === undefined || text === ASK_WIDER) {
      this.#refuseHeld(
        `ComfyUI's answer to ${exchange.path} was not in a shape the gate can filter for team isolation`
      );
      return;
    }
    const body = Buffer.from(text, 'utf8');
    const headers = held.headers;
    delete headers['content-encoding'];
    delete headers['etag'];
    headers['content-length'] = body.length;
    this.res.writeHead(held.statusCode, headers);
    this.res.end(body);
  }

  #refuseHeld(message: string): void {
    this.exchange.refusal = 'upstream_unexpected';
    if (!this.res.headersSent) sendRefusal(this.exchange, this.res, new GateError('upstream_unexpected', message));
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const req = this.exchange.req;
    if (this.#clientGone || error === CLIENT_GONE || req.errored || this.res.destroyed) {
      this.res.destroy();
      req.destroy();
      return;
    }
    // A body filter's refusal (see uploadGuard.ts): ComfyUI never got the whole request.
    const gateError = error instanceof GateError ? error : classifyUpstreamError(error, this.upstream.url);
    if (gateError.code === 'upstream_unreachable') this.upstream.markReachable(false);
    this.exchange.refusal = gateError.code;
    if (this.res.headersSent) this.res.destroy();
    else sendRefusal(this.exchange, this.res, gateError, { connection: 'close' });
    // An unread request body would otherwise keep the client's socket busy.
    if (!req.complete) req.destroy();
  }
}
