import type { IncomingMessage } from 'node:http';
import type { BodyBudget } from './bodyBudget.js';

export type BodyRead =
  | { outcome: 'read'; bytes: Buffer }
  /** Larger than the gate inspects; nothing was kept. */
  | { outcome: 'too_large' }
  /** The bodies held right now leave no room for this one; nothing was kept. */
  | { outcome: 'over_budget' }
  /** The client went away before the body was complete. */
  | { outcome: 'cut_off' };

/** Bytes of the budget a body holds; the caller gives them back when the request is over. */
export interface Reservation {
  bytes: number;
}

const TOO_LARGE: BodyRead = { outcome: 'too_large' };
const OVER_BUDGET: BodyRead = { outcome: 'over_budget' };
const CUT_OFF: BodyRead = { outcome: 'cut_off' };
/** First buffer for a body of unknown length (chunked); doubled as it grows. */
const FIRST_CAPACITY = 64 << 10;
const EMPTY = Buffer.alloc(0);

/**
 * Reads a request body into one Buffer and holds no other copy: a declared length gets a buffer of
 * exactly that size before the first byte, and each chunk is copied in and dropped as it arrives.
 * The bytes are reserved against `budget` before they are read: a declared length all at once, so a
 * refusal comes before the upload; a chunked body as its buffer grows.
 */
export function readInspectedBody(
  req: IncomingMessage,
  limit: number,
  budget: BodyBudget,
  reservation: Reservation
): Promise<BodyRead> {
  return new Promise((resolve) => {
    const lengthHeader = req.headers['content-length'];
    const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);
    const reserve = (bytes: number): boolean => {
      if (!budget.tryReserve(bytes)) return false;
      reservation.bytes += bytes;
      return true;
    };
    if (declared !== undefined && declared > limit) return resolve(TOO_LARGE);
    if (declared !== undefined && !reserve(declared)) return resolve(OVER_BUDGET);
    let buffer = declared === undefined ? EMPTY : Buffer.allocUnsafe(declared);
    let size = 0;
    let done = false;

    const finish = (result: BodyRead): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onCutOff);
      req.off('close', onCutOff);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      const needed = size + chunk.length;
      // Node holds a declared length to its word, so only a chunked body ever outgrows its buffer.
      if (needed > buffer.length) {
        if (needed > limit) return finish(TOO_LARGE);
        const capacity = Math.min(limit, Math.max(needed, buffer.length * 2, FIRST_CAPACITY));
        if (!reserve(capacity - buffer.length)) return finish(OVER_BUDGET);
        const grown = Buffer.allocUnsafe(capacity);
        buffer.copy(grown, 0, 0, size);
        buffer = grown;
      }
      chunk.copy(buffer, size);
      size = needed;
    };
    const onEnd = (): void => {
      finish({ outcome: 'read', bytes: size === buffer.length ? buffer : buffer.subarray(0, size) });
    };
    const onCutOff = (): void => finish(CUT_OFF);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onCutOff);
    req.once('close', onCutOff);
  });
}
