import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { withoutTokenParam } from '../auth/credentials.js';
import { GateError, sendError } from '../errors.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './forwardHeaders.js';
import type { Exchange } from './pipeline.js';
import type { Upstream } from './upstream.js';

export interface ForwardOptions {
  upstream: Upstream;
  /** Longest wait for ComfyUI's response headers, and for each gap between body chunks. */
  timeoutMs: number;
}

const CLIENT_GONE = new Error('client closed the connection');

/**
 * Streams one request to ComfyUI and its answer back, through undici's lowest-level dispatch API:
 * one handler object per request, backpressure both ways, no buffering of bodies.
 */
export function createForwarder({
  upstream,
  timeoutMs,
}: ForwardOptions): (exchange: Exchange, res: ServerResponse) => void {
  const pool = upstream.pool;
  const upstreamUrl = upstream.url;
  return function forward(exchange, res) {
    const req = exchange.req;
    const handler = new ForwardHandler(req, res, upstream, upstreamUrl);
    let headers: string[];
    try {
      headers = upstreamRequestHeaders(req, exchange.clientIp, exchange.secure);
    } catch {
      sendError(res, new GateError('bad_request', 'The request headers could not be read'));
      return;
    }
    res.once('close', handler.onClientClose);
    pool.dispatch(
      {
        origin: upstreamUrl,
        path: withoutTokenParam(req.url ?? '/'),
        method: req.method ?? 'GET',
        headers,
        body: hasBody(req) ? req : null,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      handler
    );
  };
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

class ForwardHandler implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined;
  #clientGone = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly upstream: Upstream,
    private readonly upstreamUrl: string
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
    if (this.upstream.reachable !== true) this.upstream.markReachable(true);
    if (statusMessage) this.res.writeHead(statusCode, statusMessage, clientResponseHeaders(headers));
    else this.res.writeHead(statusCode, clientResponseHeaders(headers));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', this.#resume);
    }
  }

  onResponseEnd(): void {
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#clientGone || error === CLIENT_GONE || this.req.errored || this.res.destroyed) {
      this.res.destroy();
      this.req.destroy();
      return;
    }
    const gateError = classifyUpstreamError(error, this.upstreamUrl);
    if (gateError.code === 'upstream_unreachable') this.upstream.markReachable(false);
    if (this.res.headersSent) this.res.destroy();
    else sendError(this.res, gateError, { connection: 'close' });
    // An unread request body would otherwise keep the client's socket busy.
    if (!this.req.complete) this.req.destroy();
  }
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

export function classifyUpstreamError(error: Error, upstreamUrl: string): GateError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new GateError('upstream_timeout', `ComfyUI at ${upstreamUrl} did not answer in time`);
  }
  if (
    code === 'UND_ERR_INVALID_ARG' ||
    code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' ||
    code === 'UND_ERR_NOT_SUPPORTED'
  ) {
    return new GateError('bad_request', 'The request could not be forwarded: ' + error.message);
  }
  if (UNREACHABLE_CODES.has(code) || error.name === 'SocketError' || error.name === 'ConnectTimeoutError') {
    return new GateError('upstream_unreachable', `ComfyUI is not reachable at ${upstreamUrl}`);
  }
  return new GateError('upstream_unreachable', `ComfyUI at ${upstreamUrl} failed to answer: ${error.message}`);
}
