import type { ErrorCode } from '../errors.js';
import type { Role } from '../keys/keySchema.js';
import type { RouteClass } from '../pipeline/routeClasses.js';

/**
 * One finished proxied request or WebSocket session, as usage, the request log, the live log
 * stream and metrics see it. Never holds a credential: `path` is the normalized path without query.
 */
export interface FinishedRequest {
  kind: 'http' | 'ws';
  /** Start, epoch milliseconds. */
  time: number;
  requestId: string;
  /** null for anonymous callers (mode off or optional without a credential). */
  keyId: string | null;
  keyName: string | null;
  role: Role | null;
  clientIp: string;
  method: string;
  /** Normalized path (see normalizePath.ts), query dropped; the raw path when it could not be normalized. */
  path: string;
  routeClass: RouteClass | null;
  /** HTTP status sent to the client; 101 for a WebSocket that was relayed. */
  status: number;
  durationMs: number;
  /** Time until ComfyUI's response headers; null when the gate answered itself. */
  upstreamMs: number | null;
  bytesIn: number;
  bytesOut: number;
  /** Set for an accepted `POST /prompt`. */
  promptId?: string;
  /** The gate's own refusal code (unauthorized, rate_limit_minute, …), when it refused. */
  refusal?: ErrorCode;
}

/** Called once per finished request, on the event loop: must not block or throw. */
export type RequestObserver = (finished: FinishedRequest) => void;
