import { normalizePath } from '../pipeline/normalizePath.js';
import type { Exchange } from '../pipeline/exchange.js';
import type { FinishedRequest } from './finishedRequest.js';

/** The record observers get, from what the exchange learned on its way through the gate. */
export function finishedRequest(
  exchange: Exchange,
  kind: FinishedRequest['kind'],
  status: number,
  bytesIn: number,
  bytesOut: number
): FinishedRequest {
  const principal = exchange.principal;
  const record: FinishedRequest = {
    kind,
    time: exchange.time,
    requestId: exchange.requestId,
    keyId: principal?.keyId ?? null,
    keyName: principal?.name ?? null,
    role: principal?.role ?? null,
    clientIp: exchange.clientIp,
    method: exchange.req.method ?? 'GET',
    path: exchange.routeClass === null ? normalizedOrRaw(exchange.path) : exchange.path,
    routeClass: exchange.routeClass,
    status,
    durationMs: performance.now() - exchange.startedAt,
    upstreamMs: exchange.upstreamMs,
    bytesIn,
    bytesOut,
  };
  if (exchange.promptId !== null && status === 200) record.promptId = exchange.promptId;
  if (exchange.refusal !== null) record.refusal = exchange.refusal;
  return record;
}

/** Refused before the authorize step ran: `path` is still the raw target, whose query may hold `?token=`. */
function normalizedOrRaw(rawUrl: string): string {
  const normalized = normalizePath(rawUrl);
  if (normalized.ok) return normalized.path;
  const query = rawUrl.indexOf('?');
  return query === -1 ? rawUrl : rawUrl.slice(0, query);
}
