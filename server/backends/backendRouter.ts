import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../appLog/logger.js';
import type { BackendSpec, GateConfig } from '../config/schema.js';
import { Backend } from './backend.js';
import { BodyTooLarge, MAX_BODY_BYTES, readBody, requestHeaders, sendJson, sendUnreachable } from './backendHttp.js';
import type { BackendStatus } from './backendStatus.js';
import { failOver } from './failover.js';
import { streamFromFirst } from './firstBackend.js';
import {
  mergeExecInfo,
  mergeHistories,
  mergeJobs,
  mergeObjectInfo,
  mergeQueues,
  mergeSystemStats,
} from './mergedAnswers.js';
import { firstFound, mergedRead } from './mergedReads.js';
import { MergedSockets } from './mergedSockets.js';
import { editQueues, interrupt, placePrompt, toOwner } from './promptRoutes.js';
import { PromptPlaces } from './promptPlaces.js';
import type { RouterScope } from './routerScope.js';
import { streamToAll } from './writesToAll.js';

export interface BackendRouterOptions {
  specs: readonly BackendSpec[];
  connectTimeoutMs: number;
  /** How long a backend may take to answer (object_info and big prompts can be slow). */
  timeoutMs: number;
  logger: Logger;
  /** How often each backend is health-checked. */
  checkIntervalMs?: number;
}

export interface BackendRouterEvents {
  /** A prompt went to this backend (new, or moved there from a lost one). */
  placed: [backend: Backend];
  reachability: [backend: Backend, reachable: boolean];
}

const CHECK_INTERVAL_MS = 1_000;

/**
 * Several ComfyUIs as one, on a loopback port of its own: the gate's forwarder, isolation and WebSocket relay
 * talk to it exactly as to a single ComfyUI, so none of them changes and a gate with one backend never builds
 * it. It places each new prompt, sends everything about a prompt to the backend that has it, merges what
 * spans them all (queue, history, jobs, node catalog, `/ws`) and moves a lost backend's waiting prompts.
 *
 * It listens on 127.0.0.1 only, with no credential of its own: whoever can reach it on this machine can
 * reach the backends it fronts directly as well.
 */
export class BackendRouter extends EventEmitter<BackendRouterEvents> {
  readonly backends: readonly Backend[];
  readonly #options: BackendRouterOptions;
  readonly #places = new PromptPlaces();
  readonly #sockets: MergedSockets;
  readonly #scope: RouterScope;
  readonly #server: Server;
  readonly #timer: NodeJS.Timeout;
  /** `127.0.0.1:port`, as the gate names the router in Host. */
  #host = '';
  /** One fail-over at a time: two reachability changes must not move the same prompt twice. */
  #failingOver: Promise<void> = Promise.resolve();

  private constructor(options: BackendRouterOptions) {
    super();
    this.#options = options;
    this.backends = options.specs.map((spec, index) => new Backend(spec, index, options.connectTimeoutMs));
    this.#scope = {
      backends: this.backends,
      places: this.#places,
      timeoutMs: options.timeoutMs,
      logger: options.logger,
      reachable: () => this.backends.filter((backend) => backend.reachable),
      placed: (backend) => this.#placed(backend),
    };
    this.#sockets = new MergedSockets({
      backends: this.backends,
      places: this.#places,
      handshakeTimeoutMs: options.timeoutMs,
      logger: options.logger,
    });
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      if (!this.#fromGate(req)) {
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.#sockets.handleUpgrade(req, socket, head);
    });
    for (const backend of this.backends) {
      backend.on('reachability', (reachable) => this.#onReachability(backend, reachable));
    }
    this.#timer = setInterval(() => this.#checkAll(), options.checkIntervalMs ?? CHECK_INTERVAL_MS).unref();
  }

  /** The router for several backends; undefined with one (or none: discovery), which the gate reaches directly. */
  static async forConfig(config: GateConfig, logger: Logger): Promise<BackendRouter | undefined> {
    const specs = config.upstreams;
    if (specs === undefined || specs.length < 2) return undefined;
    return BackendRouter.start({
      specs,
      connectTimeoutMs: config.connectTimeoutMs,
      timeoutMs: config.upstreamTimeoutMs,
      logger,
    });
  }

  static async start(options: BackendRouterOptions): Promise<BackendRouter> {
    const router = new BackendRouter(options);
    await new Promise<void>((resolve, reject) => {
      router.#server.once('error', reject);
      router.#server.listen(0, '127.0.0.1', () => resolve());
    });
    router.#host = `127.0.0.1:${(router.#server.address() as AddressInfo).port}`;
    await Promise.all(router.backends.map((backend) => backend.check()));
    return router;
  }

  /** Where the gate's upstream client reaches it. */
  get url(): string {
    return `http://${this.#host}`;
  }

  statuses(): BackendStatus[] {
    return this.backends.map((backend) => backend.status());
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#sockets.closeAll();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await Promise.all(this.backends.map((backend) => backend.close()));
  }

  #checkAll(): void {
    for (const backend of this.backends) {
      void backend.check().then((reachable) => {
        // A backend that stopped answering keeps its prompts' last known states for the fail-over.
        if (reachable) this.#places.observeQueue(backend);
      });
    }
  }

  #onReachability(backend: Backend, reachable: boolean): void {
    this.#options.logger.info(
      { backend: backend.url, label: backend.label, reachable },
      reachable ? `ComfyUI backend ${backend.label} is reachable` : `ComfyUI backend ${backend.label} is not reachable`
    );
    if (reachable) this.#sockets.backendUp(backend);
    this.emit('reachability', backend, reachable);
    this.#failingOver = this.#failingOver
      .then(() =>
        failOver({
          places: this.#places,
          backends: this.backends,
          sockets: this.#sockets,
          logger: this.#options.logger,
          timeoutMs: this.#options.timeoutMs,
          onPlaced: (to) => this.#placed(to),
        })
      )
      .catch((error: unknown) => this.#options.logger.warn({ err: error }, 'could not move the prompts of a backend'));
  }

  /**
   * The gate names the router by its own address and never sends Origin (it removes it before forwarding).
   * A browser on this machine always sends Origin on writes and sockets, and a DNS-rebound page names
   * another host: neither reaches the backends through here.
   */
  #fromGate(req: IncomingMessage): boolean {
    return req.headers.origin === undefined && req.headers.host === this.#host;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#fromGate(req)) {
      sendJson(res, 403, { error: { type: 'forbidden', message: 'Only the gate may use this address.' } });
      return;
    }
    try {
      await this.#route(req, res);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof BodyTooLarge) {
        sendJson(res, 413, { error: { type: 'too_large', message: error.message, details: '', extra_info: {} } });
        return;
      }
      this.#options.logger.warn({ err: error }, 'a request to the ComfyUI backends failed');
      sendUnreachable(res, 'The ComfyUI backend stopped answering.');
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/';
    const queryAt = raw.indexOf('?');
    const rawPath = queryAt < 0 ? raw : raw.slice(0, queryAt);
    // The frontend calls most routes under /api as well; the gate already refused ambiguous paths.
    const path = rawPath.startsWith('/api/') ? rawPath.slice(4) : rawPath;
    const method = req.method ?? 'GET';
    const headers = requestHeaders(req.headers);
    const read = method === 'GET' || method === 'HEAD';
    const scope = this.#scope;
    let match: RegExpExecArray | null;

    if (method === 'POST' && path === '/prompt') return placePrompt(scope, req, res, raw, headers);
    if (read && path === '/prompt') return mergedRead(scope, res, raw, headers, mergeExecInfo);
    if (read && path === '/queue') return mergedRead(scope, res, raw, headers, mergeQueues);
    if (read && path === '/history') {
      const maxItems = Number(new URL(raw, 'http://backends').searchParams.get('max_items'));
      return mergedRead(
        scope,
        res,
        raw,
        headers,
        (answers) => mergeHistories(answers, Number.isInteger(maxItems) && maxItems > 0 ? maxItems : undefined),
        (json, backend) => this.#places.noteHistory(json, backend)
      );
    }
    if (read && (match = /^\/history\/([^/]+)$/.exec(path))) {
      return toOwner(scope, res, decodeURIComponent(match[1] ?? ''), method, raw, headers, undefined);
    }
    if (read && path === '/object_info') {
      return mergedRead(scope, res, raw, headers, mergeObjectInfo, (json, backend) => backend.noteCatalog(json));
    }
    if (read && path === '/system_stats') return mergedRead(scope, res, raw, headers, mergeSystemStats);
    if (read && path === '/jobs') return mergedRead(scope, res, raw, headers, mergeJobs);
    if ((match = /^\/jobs\/([^/]+)(\/cancel)?$/.exec(path)) && (read || (method === 'POST' && match[2]))) {
      const body = read ? undefined : await readBody(req, MAX_BODY_BYTES);
      return toOwner(scope, res, decodeURIComponent(match[1] ?? ''), method, raw, headers, body);
    }
    if (read && (path === '/view' || path.startsWith('/object_info/'))) return firstFound(scope, res, raw, headers);
    if (method === 'POST' && path === '/interrupt') return interrupt(scope, req, res, raw, headers);
    if (method === 'POST' && (path === '/queue' || path === '/history'))
      return editQueues(scope, req, res, raw, headers);
    if (read) return streamFromFirst(scope, req, res, raw, headers);
    // Uploads, settings, user data, /free, the Manager: every backend, so any of them can run what comes next.
    return streamToAll(scope, req, res, method, raw, headers);
  }

  #placed(backend: Backend): void {
    backend.notePlaced();
    this.emit('placed', backend);
  }
}
