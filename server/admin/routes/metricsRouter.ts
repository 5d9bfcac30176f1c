import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { principalOf } from '../adminGuards.js';
import type { Principal } from '../../pipeline/principal.js';
import { errorBody, statusFor, type ErrorCode } from '../../errors.js';
import type { GateMetrics } from '../../metrics/gateMetrics.js';
import { nextRequestId } from '../../pipeline/exchange.js';

export interface MetricsRouterDeps {
  metrics: Pick<GateMetrics, 'text' | 'contentType'>;
  /** The scrape token from Settings, read per request so a change applies at once; null or '' = none. */
  metricsToken: () => string | null;
  /** The caller's principal from any gate credential, or undefined when there is none or it is wrong. */
  authenticate: (req: Request) => Principal | undefined;
}

/**
 * `GET /gate/metrics` for an admin or for a scraper holding the metrics token as a bearer token.
 *
 * Mount it BEFORE `identify`: `identify` would answer the metrics token (not an API key) with 401.
 * The token is checked first, so a scraper never goes through the authenticator, whose failures
 * count towards a lockout. Answers errors itself, so it works wherever it is mounted.
 */
export function metricsRouter({ metrics, metricsToken, authenticate }: MetricsRouterDeps): Router {
  const router = Router();
  router.get('/gate/metrics', async function metricsEndpoint(req: Request, res: Response) {
    const principal = principalOf(res) ?? (isMetricsToken(req, metricsToken()) ? 'scraper' : authenticate(req));
    if (principal === undefined) {
      sendError(res, 'unauthorized', 'Send an admin key or the metrics token (Authorization: Bearer …)', {
        'www-authenticate': 'Bearer realm="ComfyGate metrics"',
      });
      return;
    }
    if (principal !== 'scraper' && principal.role !== 'admin') {
      sendError(
        res,
        'forbidden',
        `Metrics need the admin role or the metrics token; "${principal.name}" is ${principal.role}`
      );
      return;
    }
    const text = await metrics.text();
    res.status(200).set({ 'content-type': metrics.contentType, 'cache-control': 'no-store' }).send(text);
  });
  return router;
}

function isMetricsToken(req: Request, token: string | null): boolean {
  if (token === null || token === '') return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!match?.[1]) return false;
  // Digests have equal length whatever was sent, so timingSafeEqual never throws and the length leaks nothing.
  return timingSafeEqual(sha256(match[1]), sha256(token));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function sendError(res: Response, code: ErrorCode, message: string, headers: Record<string, string> = {}): void {
  res
    .status(statusFor(code))
    .set({ ...headers, 'cache-control': 'no-store' })
    .type('application/json')
    .send(errorBody(code, message, { requestId: nextRequestId() }));
}
