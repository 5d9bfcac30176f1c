import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Logger } from '../appLog/logger.js';
import { isObject, type Backend } from './backend.js';
import { queueRemainingOf, sumQueueRemaining } from './mergedAnswers.js';
import type { PromptPlaces } from './promptPlaces.js';

export interface MergedSocketsOptions {
  backends: readonly Backend[];
  places: PromptPlaces;
  handshakeTimeoutMs: number;
  logger: Logger;
}

/** One client socket and its socket on each reachable backend, all under the client's one clientId. */
interface Session {
  client: WebSocket;
  clientId: string;
  path: string;
  upstreams: Map<Backend, WebSocket>;
  /** Each backend's last `queue_remaining`, summed into the `status` the client sees. */
  remaining: Map<Backend, number>;
  /** The client's first message (the frontend's feature flags), replayed to a backend that joins later. */
  first: { data: RawData; isBinary: boolean } | undefined;
  featureFlagsSent: boolean;
}

const MAX_FROM_UPSTREAM = 256 << 20;

/**
 * The `/ws` of several backends as one: a client's socket gets the frames of all its prompts wherever they
 * run (ComfyUI sends a prompt's frames to the socket of its client_id, so each backend gets a socket with
 * that id), `status` counts the work left on all of them, and `feature_flags` comes once.
 */
export class MergedSockets {
  readonly #options: MergedSocketsOptions;
  readonly #server = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false });
  readonly #sessions = new Set<Session>();

  constructor(options: MergedSocketsOptions) {
    this.#options = options;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const reachable = this.#options.backends.filter((backend) => backend.reachable);
    if (reachable.length === 0) {
      socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const url = new URL(req.url ?? '/ws', 'http://backends');
    // Without an id each backend would make its own, and a prompt's frames would miss the client.
    const clientId = url.searchParams.get('clientId') || randomUUID().replaceAll('-', '');
    this.#server.handleUpgrade(req, socket, head, (client) => {
      const session: Session = {
        client,
        clientId,
        path: url.pathname,
        upstreams: new Map(),
        remaining: new Map(),
        first: undefined,
        featureFlagsSent: false,
      };
      this.#sessions.add(session);
      for (const backend of reachable) this.#connect(session, backend);
      client.on('message', (data, isBinary) => {
        session.first ??= { data, isBinary };
        for (const upstream of session.upstreams.values()) {
          if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
        }
      });
      client.on('error', () => client.terminate());
      client.on('close', () => {
        this.#sessions.delete(session);
        for (const upstream of session.upstreams.values()) upstream.terminate();
      });
    });
  }

  /** A backend answers again: every open client gets its frames again. */
  backendUp(backend: Backend): void {
    for (const session of this.#sessions) if (!session.upstreams.has(backend)) this.#connect(session, backend);
  }

  /** A message of the gate's own (a lost prompt's error) to every socket of one clientId. */
  sendTo(clientId: string, message: unknown): void {
    const text = JSON.stringify(message);
    for (const session of this.#sessions) {
      if (session.clientId === clientId && session.client.readyState === WebSocket.OPEN) session.client.send(text);
    }
  }

  closeAll(): void {
    for (const session of this.#sessions) session.client.terminate();
  }

  #connect(session: Session, backend: Backend): void {
    const target = `${backend.url.replace(/^http/, 'ws')}${session.path}?clientId=${encodeURIComponent(session.clientId)}`;
    const upstream = new WebSocket(target, {
      handshakeTimeout: this.#options.handshakeTimeoutMs,
      perMessageDeflate: false,
      maxPayload: MAX_FROM_UPSTREAM,
    });
    session.upstreams.set(backend, upstream);
    upstream.on('open', () => {
      if (session.first !== undefined) upstream.send(session.first.data, { binary: session.first.isBinary });
    });
    upstream.on('message', (data, isBinary) => this.#fromBackend(session, backend, data, isBinary));
    upstream.on('error', (error) => this.#options.logger.debug({ err: error, backend: backend.url }, 'backend socket'));
    upstream.on('close', () => {
      if (session.upstreams.get(backend) !== upstream) return;
      session.upstreams.delete(backend);
      session.remaining.delete(backend);
      // A closed socket is the quickest sign of a backend gone: check now rather than at the next round.
      void backend.check();
      if (session.upstreams.size === 0 && session.client.readyState === WebSocket.OPEN) {
        session.client.close(1001, 'ComfyUI is not reachable');
      }
    });
  }

  #fromBackend(session: Session, backend: Backend, data: RawData, isBinary: boolean): void {
    const { client } = session;
    if (client.readyState !== WebSocket.OPEN) return;
    if (isBinary) {
      client.send(data, { binary: true });
      return;
    }
    const message = parseMessage(data);
    if (message?.type === 'status' && isObject(message.data)) {
      session.remaining.set(backend, queueRemainingOf(message.data['status']));
      const merged = {
        ...message.data,
        status: { exec_info: { queue_remaining: sumQueueRemaining([...session.remaining.values()]) } },
      };
      client.send(JSON.stringify({ type: 'status', data: merged }));
      return;
    }
    if (message?.type === 'feature_flags') {
      if (session.featureFlagsSent) return;
      session.featureFlagsSent = true;
    }
    if (message !== undefined && isObject(message.data)) this.#learn(backend, message.type, message.data);
    client.send(data, { binary: false });
  }

  /** Which node a prompt runs and which files it wrote, for a lost prompt's error and for `/view`. */
  #learn(backend: Backend, type: string, data: Record<string, unknown>): void {
    const promptId = data['prompt_id'];
    if (typeof promptId !== 'string') return;
    const place = this.#options.places.get(promptId);
    if (place !== undefined && place.state !== 'done') {
      if (type === 'execution_start') place.state = 'running';
      if (type === 'executing') {
        place.node = typeof data['node'] === 'string' ? data['node'] : null;
        place.state = place.node === null ? 'done' : 'running';
      }
      if (type === 'execution_success' || type === 'execution_error' || type === 'execution_interrupted') {
        place.state = 'done';
      }
      if (place.state === 'done') place.body = undefined;
    }
    if (type === 'executed') this.#options.places.noteFiles(data['output'], backend);
  }
}

function parseMessage(data: RawData): { type: string; data: unknown } | undefined {
  try {
    const value: unknown = JSON.parse(bufferOf(data).toString('utf8'));
    return isObject(value) && typeof value['type'] === 'string'
      ? { type: value['type'], data: value['data'] }
      : undefined;
  } catch {
    return undefined;
  }
}

function bufferOf(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
