import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Principal } from '../pipeline/principal.js';
import { withoutTokenParam } from '../pipeline/credentials.js';
import { finishedRequest } from '../observe/finish.js';
import type { RequestObserver } from '../observe/finishedRequest.js';
import type { Exchange } from '../pipeline/exchange.js';
import type { Logger } from '../appLog/logger.js';
import { GateError, rawErrorResponse } from '../errors.js';
import type { PromptOwners } from '../isolation/promptOwners.js';
import { isSendableCloseCode } from './closeCodes.js';
import { ClientIdClaims, clientIdOf } from './clientIdClaims.js';
import { isolatedFrame } from './isolatedFrames.js';

export interface WsRelayOptions {
  /** ComfyUI's http(s) origin; the socket goes to the same path and query on its ws(s) twin. */
  upstreamUrl: string;
  handshakeTimeoutMs: number;
  pingIntervalMs: number;
  logger: Logger;
  /** Told about each relayed session once both sides closed. */
  observe: RequestObserver;
  /** Sees every text frame ComfyUI sends (fair queueing watches prompts finish). */
  onUpstreamText: (frame: Buffer) => void;
  /** Whose prompts are whose: an isolated socket gets only its caller's prompts' messages. */
  owners: PromptOwners;
  /** Open sockets one limits subject (a key, or an anonymous address) may hold; null for no cap. */
  maxPerSubject: () => number | null;
}

/** One client socket and the upstream socket that serves only it. */
export interface RelaySession {
  client: WebSocket;
  upstream: WebSocket;
  alive: boolean;
  /** Whom the handshake was authorized for; undefined for anonymous sockets. */
  principal: Principal | undefined;
  exchange: Exchange;
  bytesIn: number;
  bytesOut: number;
  /** The clientId the socket asked ComfyUI for, claimed for its caller while it is open. */
  clientId: string | null;
  /** Team isolation: the caller's prompt is running now, so unattributed previews are theirs. */
  ownPromptRunning: boolean;
}

/**
 * Frames go to the client as ComfyUI sent them to the gate, uncompressed, also when the client negotiated
 * permessage-deflate (RFC 7692 lets a sender leave any message uncompressed; `ws` otherwise compresses every
 * message, as its `threshold` applies only without context takeover). Compressing cost the gate about 60 µs of
 * zlib round trip per message against about 10 µs for relaying it, and a socket that ever compressed kept a
 * deflate context of about 90 KB (measured even at windowBits 9, memLevel 1), while ComfyUI's text messages are
 * small JSON and its binary frames already-compressed preview images (bench, issue 21).
 */
const TEXT = { binary: false, compress: false } as const;
const BINARY = { binary: true, compress: false } as const;
/** Above this many queued bytes towards one side, reading from the other side pauses. */
const HIGH_WATER_BYTES = 1 << 20;
/** ComfyUI sends whole preview images as one message; clients send small JSON. */
const MAX_FROM_UPSTREAM = 256 << 20;
const MAX_FROM_CLIENT = 16 << 20;
const UPSTREAM_RESPONSE_LIMIT = 64 << 10;
/**
 * permessage-deflate is still negotiated, since browsers always offer it, so a browser compresses what it sends
 * and the gate inflates it: a few small messages per socket (feature flags), inflated up to MAX_FROM_CLIENT and
 * no further. The inflate window stays the client's choice: insisting on a smaller one would refuse clients that
 * do not offer to shrink it, and saves about 5 KB per socket (measured).
 */
const CLIENT_DEFLATE = {
  zlibInflateOptions: { chunkSize: 4096 },
  /** zlib work runs on libuv's four threads; more at once only queues. */
  concurrencyLimit: 4,
} as const;
/** What a refused upgrade over the cap tells a client; the ComfyUI frontend retries every 300 ms anyway. */
const CAP_RETRY_AFTER_SECONDS = '5';

/**
 * Relays WebSockets message by message with the `ws` library on both sides. Parsing frames costs a
 * little over piping bytes (see the bench), but it is what lets the gate read the first `status`
 * message and drop frames of other teammates' prompts: that filtering belongs in `relayToClient`.
 */
export class WsRelay {
  readonly #options: WsRelayOptions;
  readonly #upstreamWsOrigin: string;
  readonly #server: WebSocketServer;
  readonly #sessions = new Set<RelaySession>();
  readonly #pending = new Set<WebSocket>();
  readonly #chosenProtocol = new WeakMap<IncomingMessage, string>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #claims = new ClientIdClaims();
  /** Open and pending sockets per limits subject, for the per-key cap. */
  readonly #perSubject = new Map<string, number>();

  constructor(options: WsRelayOptions) {
    this.#options = options;
    this.#upstreamWsOrigin = options.upstreamUrl.replace(/^http/, 'ws');
    this.#server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: CLIENT_DEFLATE,
      maxPayload: MAX_FROM_CLIENT,
      skipUTF8Validation: true,
      handleProtocols: (_offered, req) => this.#chosenProtocol.get(req) ?? false,
    });
    this.#heartbeat = setInterval(() => this.#sweep(), options.pingIntervalMs).unref();
  }

  /** Client sockets being relayed right now, plus handshakes still waiting for ComfyUI. */
  get openCount(): number {
    return this.#sessions.size + this.#pending.size;
  }

  /** Whether `subject` may have ComfyUI send to `clientId`: no other caller has a socket open on it. */
  mayUseClientId(clientId: string, subject: string | null): boolean {
    return this.#claims.mayUse(clientId, subject, Date.now());
  }

  /**
   * Opens the upstream socket first, so a refusal by ComfyUI reaches the client as ComfyUI said it.
   * Answers the gate's own refusal instead when the caller holds as many sockets as the cap allows
   * or the clientId is another caller's.
   */
  open(exchange: Exchange, socket: Duplex, head: Buffer, headers: Record<string, string>): GateError | undefined {
    const req = exchange.req;
    const subject = exchange.limitSubject;
    const cap = subject === null ? null : this.#options.maxPerSubject();
    const held = subject === null ? 0 : (this.#perSubject.get(subject) ?? 0);
    if (cap !== null && held >= cap) {
      return new GateError(
        'websocket_limit',
        `${held} WebSockets are open for ${exchange.principal ? 'this key' : 'this address'} (limit ${cap}); close a ComfyUI tab to open another`,
        { 'retry-after': CAP_RETRY_AFTER_SECONDS }
      );
    }
    const clientId = clientIdOf(req.url ?? '/');
    if (clientId !== null && !this.#claims.mayUse(clientId, subject, Date.now())) {
      // ComfyUI would hand this socket the other caller's messages and cut theirs off.
      return new GateError('conflict', `clientId ${clientId} belongs to another caller's open WebSocket`);
    }
    const offered = req.headers['sec-websocket-protocol'];
    const protocols = offered
      ? offered
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean)
      : [];
    const upstream = new WebSocket(this.#upstreamWsOrigin + withoutTokenParam(req.url ?? '/'), protocols, {
      headers,
      // Over loopback compression only costs CPU and zlib memory, and the gate reads every text frame (prompts
      // finishing, output files, isolation), so it would inflate each one anyway.
      perMessageDeflate: false,
      maxPayload: MAX_FROM_UPSTREAM,
      skipUTF8Validation: true,
      followRedirects: false,
      handshakeTimeout: this.#options.handshakeTimeoutMs,
    });
    this.#pending.add(upstream);
    if (subject !== null) this.#perSubject.set(subject, held + 1);

    let settled = false;
    /** The handshake is over: the socket became a session (`paired`) or never will. */
    const settle = (paired: boolean): void => {
      if (settled) return;
      settled = true;
      this.#pending.delete(upstream);
      socket.off('close', abandon);
      if (!paired) this.#release(subject);
    };
    // Also where a client handshake that `ws` refuses (a bad Sec-WebSocket-Key) ends.
    const abandon = (): void => {
      settle(false);
      upstream.terminate();
    };
    socket.once('close', abandon);

    upstream.once('unexpected-response', (_request, response) => {
      settle(false);
      relayRefusal(response, socket);
      upstream.terminate();
    });

    upstream.once('error', (error) => {
      // Not pending any more: handled, or the gate is shutting down.
      if (settled || !this.#pending.has(upstream)) return;
      settle(false);
      const timedOut = /timed out/i.test(error.message);
      const refusal = timedOut
        ? new GateError(
            'upstream_timeout',
            `ComfyUI at ${this.#options.upstreamUrl} did not accept the WebSocket in time`
          )
        : new GateError('upstream_unreachable', `ComfyUI is not reachable at ${this.#options.upstreamUrl}`);
      socket.end(rawErrorResponse(refusal, {}, exchange.requestId));
    });

    upstream.once('open', () => {
      if (socket.destroyed) {
        abandon();
        return;
      }
      if (upstream.protocol) this.#chosenProtocol.set(req, upstream.protocol);
      this.#server.handleUpgrade(req, socket, head, (client) => {
        settle(true);
        this.#pair(client, upstream, exchange, clientId);
      });
    });
    return undefined;
  }

  #release(subject: string | null): void {
    if (subject === null) return;
    const held = (this.#perSubject.get(subject) ?? 1) - 1;
    if (held > 0) this.#perSubject.set(subject, held);
    else this.#perSubject.delete(subject);
  }

  #pair(client: WebSocket, upstream: WebSocket, exchange: Exchange, clientId: string | null): void {
    const session: RelaySession = {
      client,
      upstream,
      alive: true,
      principal: exchange.principal,
      exchange,
      bytesIn: 0,
      bytesOut: 0,
      clientId,
      ownPromptRunning: false,
    };
    this.#sessions.add(session);
    if (clientId !== null) this.#claims.open(clientId, exchange.limitSubject);

    relayToClient(upstream, client, session, this.#options.onUpstreamText, this.#options.owners);
    relayToUpstream(client, upstream, session);
    client.on('pong', () => {
      session.alive = true;
    });

    const onError = (side: string) => (error: Error) => {
      this.#options.logger.debug({ err: error.message, side }, 'websocket error');
    };
    client.on('error', onError('client'));
    upstream.on('error', onError('upstream'));

    client.once('close', (code, reason) => {
      forwardClose(upstream, code, reason);
      if (upstream.readyState === WebSocket.CLOSED) this.#end(session);
    });
    upstream.once('close', (code, reason) => {
      forwardClose(client, code, reason);
      if (client.readyState === WebSocket.CLOSED) this.#end(session);
    });
  }

  #end(session: RelaySession): void {
    if (!this.#sessions.delete(session)) return;
    this.#release(session.exchange.limitSubject);
    if (session.clientId !== null) this.#claims.close(session.clientId, Date.now());
    this.#options.observe(finishedRequest(session.exchange, 'ws', 101, session.bytesIn, session.bytesOut));
  }

  /** ComfyUI sends nothing while idle, so the gate pings; a client that missed a pong is gone. */
  #sweep(): void {
    this.#claims.forgetReleased(Date.now());
    for (const session of this.#sessions) {
      if (session.client.readyState !== WebSocket.OPEN) continue;
      if (!session.alive) {
        session.client.terminate();
        continue;
      }
      session.alive = false;
      session.client.ping();
    }
  }

  /** Closes the sockets whose authorization no longer holds (a revoked key, a logged-out session). */
  closeWhere(shouldClose: (session: RelaySession) => boolean, reason: string): number {
    let closed = 0;
    for (const session of this.#sessions) {
      if (!shouldClose(session)) continue;
      // 1008 (policy violation): the ComfyUI frontend reconnects, and its next handshake is refused.
      session.client.close(1008, reason);
      session.upstream.close(1000);
      closed++;
    }
    return closed;
  }

  /** Closes every relayed socket with 1001 and resolves when they are gone or the grace is over. */
  async closeAll(graceMs: number): Promise<void> {
    clearInterval(this.#heartbeat);
    for (const upstream of this.#pending) upstream.terminate();
    this.#pending.clear();
    for (const { client, upstream } of this.#sessions) {
      client.close(1001, 'ComfyGate is shutting down');
      upstream.close(1001);
    }
    const deadline = Date.now() + graceMs;
    while (this.#sessions.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const session of this.#sessions) {
      session.client.terminate();
      session.upstream.terminate();
      this.#end(session);
    }
    this.#server.close();
  }
}

function send(to: WebSocket, data: Buffer, isBinary: boolean, from: WebSocket): void {
  if (to.readyState !== WebSocket.OPEN) return;
  const options = isBinary ? BINARY : TEXT;
  if (to.bufferedAmount < HIGH_WATER_BYTES) {
    to.send(data, options);
    return;
  }
  from.pause();
  to.send(data, options, () => from.resume());
}

/**
 * ComfyUI → client. Frames pass unchanged, except that an isolated caller's socket gets only the
 * frames of their own prompts (see isolatedFrames.ts).
 */
function relayToClient(
  upstream: WebSocket,
  client: WebSocket,
  session: RelaySession,
  onText: (frame: Buffer) => void,
  owners: PromptOwners
): void {
  const isolatedAs = session.exchange.isolatedAs;
  upstream.on('message', (data: Buffer, isBinary) => {
    session.bytesOut += data.length;
    if (!isBinary) onText(data);
    if (isolatedAs === null) {
      send(client, data, isBinary, upstream);
      return;
    }
    const frame = isolatedFrame(data, isBinary, isolatedAs, owners, session);
    if (frame !== null) send(client, frame, isBinary, upstream);
  });
}

function relayToUpstream(client: WebSocket, upstream: WebSocket, session: RelaySession): void {
  client.on('message', (data: Buffer, isBinary) => {
    session.alive = true;
    session.bytesIn += data.length;
    send(upstream, data, isBinary, client);
  });
}

function forwardClose(to: WebSocket, code: number, reason: Buffer): void {
  if (to.readyState === WebSocket.CLOSED || to.readyState === WebSocket.CLOSING) return;
  if (code === 1006) to.terminate();
  else if (isSendableCloseCode(code)) to.close(code, reason);
  else to.close();
}

/** Hands ComfyUI's non-101 answer (its 403 origin refusal, a 404) to the client, then closes. */
function relayRefusal(response: IncomingMessage, socket: Duplex): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const finish = (): void => {
    if (socket.destroyed) return;
    const body = Buffer.concat(chunks);
    let head = `HTTP/1.1 ${response.statusCode ?? 502} ${response.statusMessage ?? ''}\r\n`;
    const type = response.headers['content-type'];
    if (type) head += `Content-Type: ${type}\r\n`;
    head += `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  };
  response.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= UPSTREAM_RESPONSE_LIMIT) chunks.push(chunk);
  });
  response.once('end', finish);
  response.once('error', finish);
}
