import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { GateError, rawErrorResponse, sendError } from '../errors.js';
import type { Logger } from '../appLog/logger.js';
import { finishedRequest } from '../observe/finish.js';
import type { RequestObserver } from '../observe/finishedRequest.js';
import { upstreamUpgradeHeaders } from '../proxy/forwardHeaders.js';
import { Exchange } from '../pipeline/exchange.js';
import { runSteps, type RequestStep } from '../pipeline/steps.js';
import type { WsRelay } from '../ws/wsRelay.js';
import { peerAddressOf, rememberForwarded } from './clientIp.js';
import { forwardedFrom } from './forwardedHeaders.js';
import { sendRefusal } from '../pages/proxiedRefusal.js';
import type { TrustedProxies } from './trustedProxies.js';

export interface GateServerParts {
  steps: readonly RequestStep[];
  /** Reads and checks the body of the few requests that need it (see pipeline/bodyInspection.ts). */
  inspectBody: (exchange: Exchange, res: ServerResponse) => Promise<GateError | undefined>;
  forward: (exchange: Exchange, res: ServerResponse) => void;
  relay: WsRelay;
  admin: (req: IncomingMessage, res: ServerResponse) => void;
  /** Peers whose X-Forwarded-* / Forwarded headers are believed. */
  proxies: TrustedProxies;
  observe: RequestObserver;
  logger: Logger;
  /** Certificate and key (PEM) to serve HTTPS (and wss) with; plain HTTP without. */
  tls?: { cert: string; key: string };
}

/** `/gate`, `/gate/…` and `/gate?…` belong to the gate; every other path is ComfyUI's. */
export function isGatePath(url: string): boolean {
  return url.startsWith('/gate') && (url.length === 5 || url.charCodeAt(5) === 47 || url.charCodeAt(5) === 63);
}

/**
 * The one plain `http.Server`: `/gate/*` goes to express, everything else through the steps and
 * straight to ComfyUI, so the hot path never touches express.
 */
export function createGateServer({
  steps,
  inspectBody,
  forward,
  relay,
  admin,
  proxies,
  observe,
  logger,
  tls,
}: GateServerParts): Server {
  const secure = tls !== undefined;
  /** The Exchange for a request: what a trusted proxy says about the client, or what the socket shows. */
  function exchangeFor(req: IncomingMessage): Exchange {
    const view = proxies.enabled ? forwardedFrom(req, proxies) : undefined;
    return view
      ? new Exchange(req, view.secure, view.clientIp, view.host)
      : new Exchange(req, secure, peerAddressOf(req));
  }

  function refuse(exchange: Exchange, res: ServerResponse, refusal: GateError): void {
    exchange.refusal = refusal.code;
    // The unread body is discarded, not buffered; the connection stays usable.
    exchange.req.resume();
    sendRefusal(exchange, res, refusal);
  }

  /** A feature the caller may not see, answered as ComfyUI without it would (see standIns.ts). */
  function standIn(exchange: Exchange, res: ServerResponse): void {
    const { status, contentType, body } = exchange.standIn!;
    exchange.req.resume();
    const headers = exchange.responseHeaders;
    if (headers !== null) for (let i = 0; i + 1 < headers.length; i += 2) res.setHeader(headers[i]!, headers[i + 1]!);
    res.writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      'x-content-type-options': 'nosniff',
    });
    res.end(body);
  }

  /** What steps started and the body check, before forwarding. */
  async function prepare(exchange: Exchange, res: ServerResponse): Promise<GateError | undefined> {
    const refusal = exchange.pending ? await exchange.pending : undefined;
    if (refusal || exchange.bodyCheck === null) return refusal;
    return inspectBody(exchange, res);
  }

  function proxy(req: IncomingMessage, res: ServerResponse): void {
    const exchange = exchangeFor(req);
    const socket = req.socket;
    const readAtStart = socket.bytesRead;
    const writtenAtStart = socket.bytesWritten;
    res.once('close', () => {
      observe(
        finishedRequest(
          exchange,
          'http',
          res.statusCode,
          // Small bodies arrive with the headers, before this handler runs: the declared length counts.
          Number(req.headers['content-length'] ?? 0) || socket.bytesRead - readAtStart,
          socket.bytesWritten - writtenAtStart
        )
      );
    });

    const refusal = runSteps(steps, exchange);
    if (refusal) return refuse(exchange, res, refusal);
    if (exchange.standIn !== null) return standIn(exchange, res);
    if (exchange.bodyCheck === null && exchange.pending === null) return forward(exchange, res);
    prepare(exchange, res).then(
      (lateRefusal) => (lateRefusal ? refuse(exchange, res, lateRefusal) : forward(exchange, res)),
      () => res.destroy()
    );
  }

  const options: ServerOptions = {
    // Uploads of hundreds of MB and slow generations must not be cut by Node's 5-minute default.
    requestTimeout: 0,
    headersTimeout: 60_000,
    keepAliveTimeout: 5_000,
    noDelay: true,
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '';
    if (url.charCodeAt(0) !== 47) {
      sendError(res, new GateError('bad_request', 'The request target must be a path starting with /'), {
        connection: 'close',
      });
      return;
    }
    if (isGatePath(url)) {
      const view = proxies.enabled ? forwardedFrom(req, proxies) : undefined;
      if (view) rememberForwarded(req, view);
      admin(req, res);
    } else proxy(req, res);
  };
  const server: Server = tls
    ? createHttpsServer({ ...options, cert: tls.cert, key: tls.key }, handle)
    : createServer(options, handle);

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '';
    const refuse = (error: GateError, requestId?: string): void => {
      socket.end(rawErrorResponse(error, {}, requestId));
    };
    if (url.charCodeAt(0) !== 47) return refuse(new GateError('bad_request', 'The request target must be a path'));
    if (isGatePath(url)) return refuse(new GateError('not_found', 'The gate has no WebSocket endpoints'));
    if (req.headers.upgrade?.toLowerCase() !== 'websocket' || req.method !== 'GET') {
      return refuse(new GateError('bad_request', 'Only WebSocket upgrades are supported'));
    }
    const exchange = exchangeFor(req);
    exchange.webSocket = true;
    const refusal =
      runSteps(steps, exchange) ??
      relay.open(exchange, socket, head, upstreamUpgradeHeaders(req, exchange.clientIp, exchange.secure));
    if (refusal) {
      exchange.refusal = refusal.code;
      observe(finishedRequest(exchange, 'ws', refusal.status, 0, 0));
      return refuse(refusal, exchange.requestId);
    }
  });

  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    logger.debug({ err: error.message }, 'malformed request');
    const status =
      error.code === 'HPE_HEADER_OVERFLOW' ? 'The request headers are too large' : 'The request could not be parsed';
    socket.end(rawErrorResponse(new GateError('bad_request', status)));
  });

  return server;
}
