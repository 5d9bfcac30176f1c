import type { IncomingMessage } from 'node:http';
import type { Principal } from '../auth/principal.js';
import type { GateError } from '../errors.js';

/**
 * What the gate knows about one proxied request or WebSocket upgrade. Later steps (credentials,
 * scopes, limits) add their findings here, so each step reads what the earlier ones decided.
 */
export interface Exchange {
  readonly req: IncomingMessage;
  /** The scheme the client used to reach the gate: decides the gate's own origin. */
  readonly secure: boolean;
  readonly clientIp: string;
  /** Set by the auth step when a credential checked out; undefined means anonymous. */
  principal: Principal | undefined;
}

/** One check on the way in. Answers nothing to let the request pass, or the refusal to send. */
export type RequestStep = (exchange: Exchange) => GateError | undefined;

/** Runs the steps in order and stops at the first refusal; the same steps guard HTTP and WebSocket. */
export function runSteps(steps: readonly RequestStep[], exchange: Exchange): GateError | undefined {
  for (let i = 0; i < steps.length; i++) {
    const refusal = steps[i]!(exchange);
    if (refusal) return refusal;
  }
  return undefined;
}
