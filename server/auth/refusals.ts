import { GateError } from '../errors.js';
import type { AuthOutcome } from './authenticator.js';

const INVALID_CHALLENGE = 'Bearer realm="ComfyGate", error="invalid_token"';

/** The one way a failed credential is answered, on the proxy and on the gate's own API. */
export function authRefusal(outcome: Extract<AuthOutcome, { ok: false }>): GateError {
  if (outcome.retryAfterSeconds !== undefined) {
    return new GateError('locked_out', outcome.message, { 'retry-after': String(outcome.retryAfterSeconds) });
  }
  return new GateError('unauthorized', outcome.message, { 'www-authenticate': INVALID_CHALLENGE });
}
