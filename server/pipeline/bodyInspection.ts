import type { ServerResponse } from 'node:http';
import { GateError } from '../errors.js';
import type { BodyBudget } from './bodyBudget.js';
import type { Exchange } from './exchange.js';
import { InspectedBody } from './inspectedBody.js';
import { readInspectedBody, type Reservation } from './readInspectedBody.js';
import type { BodyCheck } from './steps.js';

export interface BodyInspectionDeps {
  /** The concerns' checks, in the order they run. */
  checks: readonly BodyCheck[];
  /** Prompts carry whole workflows; anything larger is no prompt. */
  maxBodyBytes: number;
  /** What all bodies being inspected at once may hold. */
  budget: BodyBudget;
}

/** Long enough for a prompt or two ahead to be forwarded and their memory given back. */
const BUSY_RETRY_AFTER_SECONDS = '5';

/**
 * The few requests whose body the gate reads before forwarding (the steps mark them, see
 * `Exchange.bodyCheck`): the body is read once, within the budget, and the checks run on it in order
 * until the first refusal. What they find or edit lands on the exchange (`body`, `promptId`, …).
 */
export function bodyInspection({ checks, maxBodyBytes, budget }: BodyInspectionDeps) {
  const limit = Math.min(maxBodyBytes, budget.limitBytes);
  return async function inspectBody(exchange: Exchange, res: ServerResponse): Promise<GateError | undefined> {
    if (res.destroyed) return new GateError('bad_request', 'The client closed the connection');
    const reservation: Reservation = { bytes: 0 };
    res.once('close', () => budget.release(reservation.bytes));
    const read = await readInspectedBody(exchange.req, limit, budget, reservation);
    if (read.outcome === 'too_large') {
      return new GateError('payload_too_large', `The request body is larger than ${limit} bytes`);
    }
    if (read.outcome === 'over_budget') {
      return new GateError(
        'server_busy',
        `The gate is checking ${megabytes(budget.inUse)} of other requests' bodies right now (limit ${megabytes(budget.limitBytes)}); send this request again in a few seconds`,
        { 'retry-after': BUSY_RETRY_AFTER_SECONDS }
      );
    }
    if (read.outcome === 'cut_off') return new GateError('bad_request', 'The request body was cut off');
    exchange.body = [read.bytes];
    const body = new InspectedBody(read.bytes);
    for (const check of checks) {
      const refusal = await check(exchange, body);
      if (refusal) return refusal;
    }
    return undefined;
  };
}

function megabytes(bytes: number): string {
  return `${Math.ceil(bytes / (1 << 20))} MB`;
}
