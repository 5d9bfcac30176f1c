import { GateError } from '../errors.js';
import type { AuthOutcome } from './authenticator.js';
import { REASON_HEADER } from '../pages/signInReasons.js';

const INVALID_CHALLENGE = 'Bearer realm="ComfyGate", error="invalid_token"';

/** The one way a failed credential is answered, on the proxy and on the gate's own API. */
export function authRefusal(outcome: Extract<AuthOutcome, { ok: false }>): GateError {
  if (outcome.retryAfterSeconds !== undefined) {
    return new GateError('locked_out', outcome.message, { 'retry-after': String(outcome.retryAfterSeconds) });
  }
  // The reason lets the dashboard send a teammate to the sign-in page saying why, without reading the message.
  const headers: Record<string, string> = { 'www-authenticate': INVALID_CHALLENGE };
  if (outcome.reason !== undefined) headers[REASON_HEADER] = outcome.reason;
  return new GateError('unauthorized', outcome.message, headers);
}
