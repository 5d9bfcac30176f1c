import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../appLog/logger.js';
import type { BackendSpec, GateConfig } from '../config/schema.js';
import { Backend, isObject } from './backend.js';
import {
  BodyTooLarge,
  parseJsonObject,
  readBody,
  requestHeaders,
  sendAnswer,
  sendJson,
  sendUnreachable,
  type HeaderMap,
} from './backendHttp.js';
import type { BackendStatus } from './backendStatus.js';
import { failOver } from './failover.js';
import {
  mergeExecInfo,
  mergeHistories,
  mergeJobs,
  mergeObjectInfo,
  mergeQueues,
  mergeSystemStats,
} from './mergedAnswers.js';
import { MergedSockets } from './mergedSockets.js';
import { graphNeeds, pickBackend } from './placement.js';
import { PromptPlaces } from './promptPlaces.js';

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

/** Bodies the router reads whole: prompts, queue edits, and uploads it sends to every backend. */
const MAX_BODY_BYTES = 1024 * 1024 * 1024;
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
    let match: RegExpExecArray | null;

    if (method === 'POST' && path === '/prompt') return this.#placePrompt(req, res, raw, headers);
    if (read && path === '/prompt') return this.#merged(res, raw, headers, mergeExecInfo);
    if (read && path === '/queue') return this.#merged(res, raw, headers, mergeQueues);
    if (read && path === '/history') {
      const maxItems = Number(new URL(raw, 'http://backends').searchParams.get('max_items'));
      const learn = (json: Record<string, unknown>, backend: Backend) => this.#noteHistory(json, backend);
      return this.#merged(
        res,
        raw,
        headers,
        (answers) => mergeHistories(answers, Number.isInteger(maxItems) && maxItems > 0 ? maxItems : undefined),
        learn
      );
    }
    if (read && (match = /^\/history\/([^/]+)$/.exec(path))) {
      return this.#toOwner(res, decodeURIComponent(match[1] ?? ''), method, raw, headers, undefined);
    }
    if (read && path === '/object_info') {
      return this.#merged(res, raw, headers, mergeObjectInfo, (json, backend) => backend.noteCatalog(json));
    }
    if (read && path === '/system_stats') return this.#merged(res, raw, headers, mergeSystemStats);
    if (read && path === '/jobs') return this.#merged(res, raw, headers, mergeJobs);
    if ((match = /^\/jobs\/([^/]+)(\/cancel)?$/.exec(path)) && (read || (method === 'POST' && match[2]))) {
      const body = read ? undefined : await readBody(req, MAX_BODY_BYTES);
      return this.#toOwner(res, decodeURIComponent(match[1] ?? ''), method, raw, headers, body);
    }
    if (read && (path === '/view' || path.startsWith('/object_info/'))) return this.#firstFound(res, raw, headers);
    if (method === 'POST' && path === '/interrupt') return this.#interrupt(req, res, raw, headers);
    if (method === 'POST' && (path === '/queue' || path === '/history')) {
      const body = await readBody(req, MAX_BODY_BYTES);
      this.#forgetDeleted(body);
      return this.#toAll(res, method, raw, headers, body);
    }
    if (read) return this.#toFirst(req, res, raw, headers);
    // Uploads, settings, user data, /free, the Manager: every backend, so any of them can run what comes next.
    return this.#toAll(res, method, raw, headers, await readBody(req, MAX_BODY_BYTES));
  }

  #reachable(): Backend[] {
    return this.backends.filter((backend) => backend.reachable);
  }

  #placed(backend: Backend): void {
    backend.notePlaced();
    this.emit('placed', backend);
  }

  async #placePrompt(req: IncomingMessage, res: ServerResponse, raw: string, headers: HeaderMap): Promise<void> {
    let body = await readBody(req, MAX_BODY_BYTES);
    const parsed = parseJsonObject(body);
    if (parsed === undefined) return this.#toFirstWith(res, 'POST', raw, headers, body);
    // The prompt's id is how the gate finds it again on whichever backend, so it always has one.
    if (typeof parsed['prompt_id'] !== 'string') {
      parsed['prompt_id'] = randomUUID();
      body = Buffer.from(JSON.stringify(parsed));
    }
    const promptId = parsed['prompt_id'] as string;
    const needs = graphNeeds(parsed['prompt']);
    const tried = new Set<Backend>();
    for (;;) {
      const backend = pickBackend(
        this.backends.filter((candidate) => !tried.has(candidate)),
        needs
      );
      if (backend === undefined) return sendUnreachable(res, 'No ComfyUI backend is reachable.');
      tried.add(backend);
      let answer;
      try {
        answer = await backend.send('POST', raw, headers, body, this.#options.timeoutMs);
      } catch {
        void backend.check();
        continue;
      }
      if (answer.status === 200) {
        this.#places.set(promptId, {
          backend,
          clientId: typeof parsed['client_id'] === 'string' ? parsed['client_id'] : null,
          state: 'placed',
          stranded: false,
          body,
          node: null,
          classes: classesOf(parsed['prompt']),
        });
        this.#placed(backend);
      }
      return sendAnswer(res, answer);
    }
  }

  /** A read spanning every backend: their JSON answers merged; the first one's error when none answered 200. */
  async #merged(
    res: ServerResponse,
    raw: string,
    headers: HeaderMap,
    merge: (answers: Array<Record<string, unknown>>) => unknown,
    learn?: (answer: Record<string, unknown>, backend: Backend) => void
  ): Promise<void> {
    const reachable = this.#reachable();
    const answers = await Promise.all(
      reachable.map((backend) =>
        backend.send('GET', raw, headers, undefined, this.#options.timeoutMs).then(
          (answer) => ({ backend, answer }),
          () => undefined
        )
      )
    );
    const ok: Array<Record<string, unknown>> = [];
    for (const result of answers) {
      if (result === undefined || result.answer.status !== 200) continue;
      const json = parseJsonObject(result.answer.body);
      if (json === undefined) continue;
      ok.push(json);
      learn?.(json, result.backend);
    }
    if (ok.length > 0) return sendJson(res, 200, merge(ok));
    const failed = answers.find((result) => result !== undefined);
    if (failed !== undefined) return sendAnswer(res, failed.answer);
    sendUnreachable(res, 'No ComfyUI backend is reachable.');
  }

  /** Everything about one prompt goes to the backend that has it; asked of all when the gate does not know. */
  async #toOwner(
    res: ServerResponse,
    promptId: string,
    method: string,
    raw: string,
    headers: HeaderMap,
    body: Buffer | undefined
  ): Promise<void> {
    const owner = this.#places.get(promptId)?.backend ?? (await this.#findOwner(promptId));
    if (owner === undefined) return this.#toFirstWith(res, method, raw, headers, body);
    const answer = await owner.send(method, raw, headers, body, this.#options.timeoutMs);
    if (raw.includes('/history/')) {
      const json = parseJsonObject(answer.body);
      if (json !== undefined) this.#noteHistory(json, owner);
    }
    sendAnswer(res, answer);
  }

  async #findOwner(promptId: string): Promise<Backend | undefined> {
    const queued = this.backends.find(
      (backend) => backend.runningIds.includes(promptId) || backend.pendingIds.includes(promptId)
    );
    if (queued !== undefined) return queued;
    const path = `/history/${encodeURIComponent(promptId)}`;
    const found = await Promise.all(
      this.#reachable().map(async (backend) => ((await backend.getJson(path))?.[promptId] ? backend : undefined))
    );
    const owner = found.find((backend) => backend !== undefined);
    if (owner !== undefined) this.#places.remember(promptId, owner);
    return owner;
  }

  /** `/interrupt` stops whatever runs: with a prompt id only where that prompt is, without one everywhere. */
  async #interrupt(req: IncomingMessage, res: ServerResponse, raw: string, headers: HeaderMap): Promise<void> {
    const body = await readBody(req, MAX_BODY_BYTES);
    const promptId = parseJsonObject(body)?.['prompt_id'];
    if (typeof promptId !== 'string') return this.#toAll(res, 'POST', raw, headers, body);
    const owner = this.#places.get(promptId)?.backend ?? (await this.#findOwner(promptId));
    if (owner === undefined) {
      res.writeHead(200, { 'content-length': 0 }).end();
      return;
    }
    sendAnswer(res, await owner.send('POST', raw, headers, body, this.#options.timeoutMs));
  }

  /** A deleted prompt is not queued again elsewhere should its backend go down. */
  #forgetDeleted(body: Buffer): void {
    const ids = parseJsonObject(body)?.['delete'];
    if (!Array.isArray(ids)) return;
    for (const id of ids) {
      const place = typeof id === 'string' ? this.#places.get(id) : undefined;
      if (place !== undefined) {
        place.state = 'done';
        place.body = undefined;
      }
    }
  }

  /** `/view` and one node class: the backend known to have it, else each in turn until one has it. */
  async #firstFound(res: ServerResponse, raw: string, headers: HeaderMap): Promise<void> {
    const query = new URL(raw, 'http://backends').searchParams;
    const known = this.#places.fileOwner(
      query.get('type') ?? 'output',
      query.get('subfolder') ?? '',
      query.get('filename') ?? ''
    );
    const order = [...(known?.reachable ? [known] : []), ...this.#reachable().filter((backend) => backend !== known)];
    let last;
    for (const backend of order) {
      try {
        last = await backend.send('GET', raw, headers, undefined, this.#options.timeoutMs);
      } catch {
        continue;
      }
      const empty = last.status === 200 && raw.includes('/object_info/') && last.body.toString() === '{}';
      if (last.status !== 404 && !empty) return sendAnswer(res, last);
    }
    if (last !== undefined) return sendAnswer(res, last);
    sendUnreachable(res, 'No ComfyUI backend is reachable.');
  }

  /** A change every backend must see; the client gets the first one's answer. */
  async #toAll(res: ServerResponse, method: string, raw: string, headers: HeaderMap, body: Buffer): Promise<void> {
    const reachable = this.#reachable();
    const answers = await Promise.all(
      reachable.map((backend) =>
        backend.send(method, raw, headers, body, this.#options.timeoutMs).catch((error: unknown) => {
          this.#options.logger.warn({ err: error, backend: backend.url }, `${method} ${raw} did not reach a backend`);
          return undefined;
        })
      )
    );
    const first = answers.find((answer) => answer !== undefined);
    if (first === undefined) return sendUnreachable(res, 'No ComfyUI backend is reachable.');
    sendAnswer(res, first);
  }

  async #toFirstWith(
    res: ServerResponse,
    method: string,
    raw: string,
    headers: HeaderMap,
    body: Buffer | undefined
  ): Promise<void> {
    const [first] = this.#reachable();
    if (first === undefined) return sendUnreachable(res, 'No ComfyUI backend is reachable.');
    sendAnswer(res, await first.send(method, raw, headers, body, this.#options.timeoutMs));
  }

  /** Reads of anything else (the frontend, user data, models): streamed from the first reachable backend. */
  async #toFirst(req: IncomingMessage, res: ServerResponse, raw: string, headers: HeaderMap): Promise<void> {
    const [first] = this.#reachable();
    if (first === undefined) return sendUnreachable(res, 'No ComfyUI backend is reachable.');
    const answer = await first.pool.request({
      path: raw,
      method: req.method ?? 'GET',
      headers,
      headersTimeout: this.#options.timeoutMs,
      bodyTimeout: 0,
    });
    const out: HeaderMap = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (name !== 'connection' && name !== 'keep-alive' && name !== 'transfer-encoding') out[name] = value;
    }
    res.writeHead(answer.statusCode, out);
    await pipeline(answer.body, res);
  }

  #noteHistory(history: Record<string, unknown>, backend: Backend): void {
    for (const [promptId, entry] of Object.entries(history)) {
      this.#places.remember(promptId, backend);
      if (!isObject(entry) || !isObject(entry['outputs'])) continue;
      for (const output of Object.values(entry['outputs'])) this.#places.noteFiles(output, backend);
    }
  }
}

function classesOf(prompt: unknown): Record<string, string> {
  const classes: Record<string, string> = {};
  if (!isObject(prompt)) return classes;
  for (const [id, node] of Object.entries(prompt)) {
    if (isObject(node) && typeof node['class_type'] === 'string') classes[id] = node['class_type'];
  }
  return classes;
}
