import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminApp } from './admin/adminApp.js';
import type { GateConfig } from './config/schema.js';
import { createGateServer } from './http/gateServer.js';
import { silentLogger, type Logger } from './log/logger.js';
import { createForwarder } from './proxy/httpForward.js';
import { originGuard } from './proxy/originGuard.js';
import { Upstream } from './proxy/upstream.js';
import { discoverUpstream } from './proxy/upstreamDiscovery.js';
import { WsRelay } from './ws/wsRelay.js';

export interface StartGateOptions {
  config: GateConfig;
  logger?: Logger;
  /** Folder of the built dashboard, served at /gate/. */
  dashboardDir?: string;
}

export interface GateState {
  url: string;
  upstream: { url: string; reachable: boolean | undefined };
  openSockets: number;
}

export interface GateEvents {
  upstream: [reachable: boolean];
}

export interface GateHandle {
  url: string;
  readonly state: GateState;
  events: EventEmitter<GateEvents>;
  stop(): Promise<void>;
}

/** Starts the gate: resolves once it listens. Knows nothing of Electron or of the CLI. */
export async function startGate({
  config,
  logger = silentLogger(),
  dashboardDir,
}: StartGateOptions): Promise<GateHandle> {
  const upstreamUrl = await resolveUpstream(config, logger);
  const upstream = new Upstream({ url: upstreamUrl, connectTimeoutMs: config.connectTimeoutMs });
  const relay = new WsRelay({
    upstreamUrl,
    handshakeTimeoutMs: config.upstreamTimeoutMs,
    pingIntervalMs: config.wsPingIntervalMs,
    logger,
  });
  const admin = createAdminApp({ upstream, logger, dashboardDir });
  const server = createGateServer({
    steps: [originGuard],
    forward: createForwarder({ upstream, timeoutMs: config.upstreamTimeoutMs }),
    relay,
    admin,
    logger,
  });

  await listen(server, config.port, config.host);
  const url = formatUrl(config.host, (server.address() as AddressInfo).port);

  const events = new EventEmitter<GateEvents>();
  upstream.on('reachability', (reachable) => {
    logger.info({ upstream: upstreamUrl, reachable }, reachable ? 'ComfyUI is reachable' : 'ComfyUI is not reachable');
    events.emit('upstream', reachable);
  });
  void upstream.check();

  let stopping: Promise<void> | undefined;
  return {
    url,
    events,
    get state(): GateState {
      return { url, upstream: { url: upstreamUrl, reachable: upstream.reachable }, openSockets: relay.openCount };
    },
    stop() {
      stopping ??= shutdown(server, relay, upstream, config.shutdownGraceMs);
      return stopping;
    },
  };
}

async function resolveUpstream(config: GateConfig, logger: Logger): Promise<string> {
  if (config.upstream) return config.upstream;
  const { url, found } = await discoverUpstream();
  if (found) logger.info({ upstream: url }, `found ComfyUI at ${url}`);
  else
    logger.warn({ upstream: url }, `ComfyUI did not answer on 127.0.0.1:8188 or :8000; using ${url} until it starts`);
  return url;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function formatUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Stop accepting, let in-flight requests finish within the grace, close sockets, then the pool. */
async function shutdown(server: Server, relay: WsRelay, upstream: Upstream, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await relay.closeAll(graceMs);
  const timer = setTimeout(() => server.closeAllConnections(), graceMs).unref();
  await closed;
  clearTimeout(timer);
  await upstream.close();
}
