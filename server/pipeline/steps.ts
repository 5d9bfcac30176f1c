import type { GateError } from '../errors.js';
import type { Exchange } from './exchange.js';
import type { InspectedBody } from './inspectedBody.js';

/**
 * One check on the way in. Answers nothing to let the request pass, or the refusal to send. Each
 * concern contributes its steps as `xxxStep(deps): RequestStep` factories.
 */
export type RequestStep = (exchange: Exchange) => GateError | undefined;

/**
 * One check of a request body the gate read (see bodyInspection.ts), run after the steps, like them
 * in order until the first refusal. Each concern contributes its checks as `xxxCheck(deps): BodyCheck`
 * factories; a check looks only at the body kinds (`exchange.bodyCheck`) it is about.
 */
export type BodyCheck = (
  exchange: Exchange,
  body: InspectedBody
) => GateError | undefined | Promise<GateError | undefined>;

/** Runs the steps in order and stops at the first refusal; the same steps guard HTTP and WebSocket. */
export function runSteps(steps: readonly RequestStep[], exchange: Exchange): GateError | undefined {
  for (let i = 0; i < steps.length; i++) {
    const refusal = steps[i]!(exchange);
    if (refusal) return refusal;
  }
  return undefined;
}
