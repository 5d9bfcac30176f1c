import { existsSync } from 'node:fs';
import type { Express, NextFunction, Request, Response } from 'express';
import express from 'express';
import { GateError, errorBody } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Upstream } from '../proxy/upstream.js';
import type { HealthReport } from './health.js';

export interface AdminAppOptions {
  upstream: Upstream;
  logger: Logger;
  /** Built dashboard (renderer) files; served at /gate/ when present. */
  dashboardDir: string | undefined;
}

/** Everything under /gate/: express is fine here, this is not the proxy's hot path. */
export function createAdminApp({ upstream, logger, dashboardDir }: AdminAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((_req, res, next) => {
    res.set({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
    next();
  });

  app.get('/gate/healthz', async (_req, res) => {
    const report: HealthReport = { status: 'ok', upstream: { url: upstream.url, reachable: await upstream.check() } };
    res.set('cache-control', 'no-store').json(report);
  });

  if (dashboardDir && existsSync(dashboardDir)) {
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
    if (gateError.code === 'internal') logger.error({ err: error }, 'admin request failed');
    res
      .status(gateError.status)
      .type('application/json')
      .set('cache-control', 'no-store')
      .send(errorBody(gateError.code, gateError.message));
  });

  return app;
}

function toGateError(error: unknown): GateError {
  if (error instanceof GateError) return error;
  if (typeof error === 'object' && error !== null && 'status' in error && error.status === 400) {
    return new GateError('bad_request', 'The request body is not valid JSON');
  }
  return new GateError('internal', 'Something went wrong inside ComfyGate; the log has details');
}
