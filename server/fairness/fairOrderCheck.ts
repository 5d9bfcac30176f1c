import { DEFAULT_WEIGHT, effectiveShareLimits } from '../limits/shareLimits.js';
import type { InspectedBody } from '../pipeline/inspectedBody.js';
import type { BodyCheck } from '../pipeline/steps.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import { promptCost, type FairQueue } from './fairQueue.js';
import type { GpuUse } from './gpuUse.js';

export interface FairOrderDeps {
  fair: FairQueue;
  settings: Pick<SettingsStore, 'current'>;
  gpu: GpuUse;
}

/**
 * Gives a `POST /prompt` its place in the fair order as ComfyUI's own queue priority (`number`), set
 * in the prompt's one edit. Runs after queueControlCheck: a caller who may manage the queue and sent
 * `front` or `number` keeps the place they asked for; anyone else's were dropped and get the fair one.
 */
export function fairOrderCheck({ fair, settings, gpu }: FairOrderDeps): BodyCheck {
  return async function fairOrder(exchange, body) {
    const subject = exchange.limitSubject;
    if (exchange.bodyCheck !== 'prompt' || body.members === undefined || subject === null) return undefined;
    const current = settings.current;
    if (!current.fairQueue.enabled || jumpsTheQueue(body)) return undefined;
    const weight = effectiveShareLimits(exchange.principal, current).weight ?? DEFAULT_WEIGHT;
    const byGpuTime = current.fairQueue.byGpuTime;
    const cost = promptCost(byGpuTime ? gpu.secondsToday(subject) : 0, byGpuTime);
    await fair.ready();
    const ticket = fair.reserve(subject, weight, cost);
    fair.hold(exchange, ticket);
    body.addRaw = { number: JSON.stringify(ticket.number) };
    return undefined;
  };
}

/** ComfyUI takes a given `number` first, else `front` when Python would call it true. */
function jumpsTheQueue(body: InspectedBody): boolean {
  if (body.remove.has('number')) return false;
  if (body.value('number') !== undefined) return true;
  const front = body.value('front');
  if (front === undefined || front === null || front === false || front === 0 || front === '') return false;
  if (Array.isArray(front)) return front.length > 0;
  if (typeof front === 'object') return Object.keys(front).length > 0;
  return true;
}
