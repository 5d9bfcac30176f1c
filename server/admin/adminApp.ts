import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Express, NextFunction, Request, Response } from 'express';
import express from 'express';
import type { Authenticator } from '../auth/authenticator.js';
import type { SessionTokens } from '../auth/sessionTokens.js';
import type { TokenClaims } from '../pipeline/principal.js';
import { GateError, GatePageError, errorBodyOf } from '../errors.js';
import type { KeyStore } from '../keys/keyStore.js';
import type { Logger } from '../appLog/logger.js';
import { nextRequestId } from '../pipeline/exchange.js';
import type { Upstream } from '../upstream/upstream.js';
import type { RuntimeSettings } from '../settings/settingsSchema.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import type { UsageAggregator } from '../usage/usageAggregator.js';
import { usageRouter } from './routes/usageRouter.js';
import {
  authenticateWith,
  browserGuard,
  identify,
  refuseLockedOut,
  requireAdmin,
  requireJsonForCookieAuth,
  requireSignedIn,
} from './adminGuards.js';
import { docsRouter } from './routes/docsRouter.js';
import { metricsRouter } from './routes/metricsRouter.js';
import type { GateMetrics } from '../metrics/gateMetrics.js';
import type { HealthReport } from '../upstream/healthReport.js';
import { isLoopbackBind } from '../pipeline/hostNames.js';
import { tokenRouter } from './routes/tokenRouter.js';
import type { AuditLog } from '../logs/auditLog.js';
import type { LogStream } from '../logs/logStream.js';
import { logsRouter } from './routes/logsRouter.js';
import type { RequestLog } from '../logs/requestLog.js';
import { auditWith } from './auditOf.js';
import { keysRouter } from './routes/keysRouter.js';
import { loginRouter } from './routes/loginRouter.js';
import { sessionsRouter } from './routes/sessionsRouter.js';
import { settingsRouter } from './routes/settingsRouter.js';
import type { ReplicaStatus } from '../redis/replicaStatus.js';
import { runtimeRouter, type RuntimeControl } from './routes/runtimeRouter.js';
import { sharingRouter } from './routes/sharingRouter.js';
import { statusRouter } from './routes/statusRouter.js';
import type { ShareAddress } from '../net/shareAddress.js';
import type { TlsSummary } from '../tls/tlsSummary.js';
import { whoamiRouter } from './routes/whoamiRouter.js';
import { queueRouter, type QueueRouterDeps } from './routes/queueRouter.js';

export interface AdminAppOptions {
  upstream: Upstream;
  /** ComfyUI as the operator named it: its URL, or the URLs of several backends separated by commas. */
  upstreamName: string;
  keys: KeyStore;
  settings: SettingsStore;
  usage: UsageAggregator;
  requestLog: RequestLog;
  logStream: LogStream;
  audit: AuditLog;
  /** The request log's retention setting, reported with its pages. */
  logRetention: () => RuntimeSettings['logRetention'];
  metrics: Pick<GateMetrics, 'text' | 'contentType'>;
  authenticator: Authenticator;
  tokens: SessionTokens;
  logger: Logger;
  /** Where the gate listens, kept current by the gate (a configured port 0 is filled in, the switch moves the host). */
  listen: { host: string; port: number };
  /** The link teammates open, decided in one place (server/net/shareAddress.ts). */
  share: () => ShareAddress;
  /** HTTPS: the certificate teammates can check; null for plain HTTP. */
  tls: TlsSummary | null;
  openSockets: () => number;
  endSession: (claims: TokenClaims) => void;
  /** Built dashboard (renderer) files; served at /gate/ when present. */
  dashboardDir: string | undefined;
  /** How the CLI on this computer makes the gate adopt its changes at once. */
  runtime: RuntimeControl;
  /** Where a caller's next prompt stands in ComfyUI's queue (the teammate page). */
  queuePlace: QueueRouterDeps['place'];
  /** With Redis: the gate replicas sharing it, for the status. */
  replicas?: () => Promise<ReplicaStatus[]>;
}

/** Everything under /gate/: express is fine here, this is not the proxy's hot path. */
export function createAdminApp(options: AdminAppOptions): Express {
  const { upstream, keys, settings, authenticator, tokens, logger, dashboardDir } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use((_req, res, next) => {
    res.set({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      // same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` on same-origin POSTs.
      'referrer-policy': 'same-origin',
    });
    next();
  });

  app.get('/gate/healthz', async (_req, res) => {
    const report: HealthReport = { status: 'ok', upstream: { url: upstream.url, reachable: await upstream.check() } };
    res.set('cache-control', 'no-store').json(report);
  });

  // After health, which checks no credential and must not page anyone because a guesser was locked out.
  app.use(refuseLockedOut(authenticator));
  app.use(docsRouter());
  app.use(
    '/gate',
    browserGuard(() => isLoopbackBind(options.listen.host))
  );
  // Before `identify`: a scraper's metrics token is not an API key and must not count as a wrong one.
  app.use(
    metricsRouter({
      metrics: options.metrics,
      metricsToken: () => settings.current.metricsToken,
      authenticate: authenticateWith(authenticator),
    })
  );
  app.use(
    '/gate',
    loginRouter({
      authenticator,
      tokens,
      keys,
      endSession: options.endSession,
      audit: options.audit,
      fingerprint256: options.tls?.fingerprint256 ?? null,
    })
  );
  const audit = auditWith(options.audit);

  const api = express.Router();
  api.use(
    express.json({ limit: '64kb' }),
    identify(authenticator, (keyId) => keys.recordUse(keyId)),
    requireJsonForCookieAuth
  );
  api.use('/runtime', runtimeRouter(options.runtime));
  api.use('/sharing', requireAdmin, sharingRouter(options.runtime.sharing));
  api.use('/whoami', requireSignedIn, whoamiRouter(keys, settings));
  api.use('/queue', requireSignedIn, queueRouter({ place: options.queuePlace }));
  api.use('/token', requireSignedIn, tokenRouter(tokens, keys));
  api.use('/sessions', requireSignedIn, sessionsRouter(keys, audit));
  api.use('/keys', requireAdmin, keysRouter(keys, settings, audit));
  api.use('/usage', usageRouter(options.usage, keys));
  api.use(
    '/settings',
    requireAdmin,
    settingsRouter({
      settings,
      running: () => ({ ...options.listen, https: options.tls !== null, upstream: options.upstreamName }),
      audit,
    })
  );
  api.use(
    '/status',
    requireAdmin,
    statusRouter({
      upstream,
      keys,
      settings,
      usage: options.usage,
      listen: options.listen,
      share: options.share,
      network: () => options.runtime.sharing.current().network,
      tls: options.tls,
      openSockets: options.openSockets,
      backends: options.runtime.backends,
      ...(options.replicas ? { replicas: options.replicas } : {}),
    })
  );
  api.use(
    logsRouter({
      requestLog: options.requestLog,
      stream: options.logStream,
      audit: options.audit,
      retention: options.logRetention,
    })
  );
  app.use('/gate/api', api);

  if (dashboardDir && existsSync(dashboardDir)) {
    // One page: the dashboard at /gate/ and the teammate page at /gate/me (it routes by hash inside).
    const index = resolve(dashboardDir, 'index.html');
    app.get(['/gate/', '/gate/me'], (_req, res) => {
      res.set('cache-control', 'no-cache').sendFile(index);
    });
    app.use('/gate', express.static(dashboardDir, { index: 'index.html', redirect: true, fallthrough: true }));
  }

  app.use((req, _res, next) => {
    next(new GateError('not_found', `No such gate endpoint: ${req.method} ${req.path}`));
  });

  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const gateError = toGateError(error);
    // Admin requests have no request-log line: the id ties the answer to the log entry of an internal error.
    const requestId = nextRequestId();
    if (gateError.code === 'internal') logger.error({ err: error, requestId }, 'admin request failed');
    const page = gateError instanceof GatePageError ? gateError.html : undefined;
    res
      .status(gateError.status)
      .set({ ...gateError.headers, 'cache-control': 'no-store' })
      .type(page === undefined ? 'application/json' : 'text/html; charset=utf-8')
      .send(page ?? errorBodyOf(gateError, requestId));
  });

  return app;
}

function toGateError(error: unknown): GateError {
  if (error instanceof GateError) return error;
  const status = typeof error === 'object' && error !== null && 'status' in error ? error.status : 0;
  if (status === 400) return new GateError('bad_request', 'The request body is not valid JSON');
  if (status === 413) return new GateError('bad_request', 'The request body is too large');
  if (status === 415) return new GateError('bad_request', 'Unsupported request body encoding');
  return new GateError('internal', 'Something went wrong inside ComfyGate; the log has details');
}
