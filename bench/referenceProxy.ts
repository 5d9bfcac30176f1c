// The floor for the gate's CPU per request: the same Node stack (node:http in front, one undici Pool behind)
// with no logic at all. Any Node reverse proxy pays for two HTTP parsers and four socket syscalls per request
// (read and write on each side), so the bench measures this beside the gate and the difference is the gate's
// own work. Not a product: no auth, no logging, no metrics, no timeouts.
//   node --import tsx bench/referenceProxy.ts --upstream http://127.0.0.1:PORT
// Prints `reference proxy listening on http://127.0.0.1:PORT` and runs until SIGTERM/SIGINT.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, never the next. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** A flat [name, value, …] list for undici, without Host: undici sets it from the upstream origin. */
function requestHeaders(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || name === 'host') continue;
    const value = headers[name];
    if (typeof value === 'string') out.push(name, value);
    else if (value) for (const item of value) out.push(name, item);
  }
  return out;
}

function responseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
  return out;
}

const CLIENT_GONE = new Error('client closed the connection');

/** Streams the upstream answer into `res`, pausing undici while the client's socket is full. */
class ReplyHandler implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined;
  #clientGone = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse
  ) {}

  // A proxy that kept reading from upstream for a client that left would leak; the gate pays for this check too.
  readonly onClientClose = (): void => {
    if (this.res.writableFinished) return;
    this.#clientGone = true;
    this.#controller?.abort(CLIENT_GONE);
  };

  readonly #resume = (): void => this.#controller?.resume();

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#clientGone) controller.abort(CLIENT_GONE);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.res.writeHead(statusCode, responseHeaders(headers));
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

  onResponseError(): void {
    if (this.#clientGone || this.res.headersSent) this.res.destroy();
    else this.res.writeHead(502, { connection: 'close' }).end();
    if (!this.req.complete) this.req.destroy();
  }
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

const flag = process.argv.indexOf('--upstream');
const upstream = flag === -1 ? undefined : process.argv[flag + 1];
if (!upstream) {
  process.stderr.write('usage: node --import tsx bench/referenceProxy.ts --upstream http://HOST:PORT\n');
  process.exit(2);
}

// Pool and server settings as the gate's (server/upstream/upstream.ts, server/http/gateServer.ts).
const pool = new Pool(upstream, { connections: 128, keepAliveTimeout: 4_000 });
const server = createServer({ keepAliveTimeout: 5_000, noDelay: true }, (req, res) => {
  const handler = new ReplyHandler(req, res);
  res.once('close', handler.onClientClose);
  pool.dispatch(
    {
      origin: upstream,
      path: req.url ?? '/',
      method: req.method ?? 'GET',
      headers: requestHeaders(req.headers),
      body: hasBody(req) ? req : null,
    },
    handler
  );
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`reference proxy listening on http://127.0.0.1:${port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));
