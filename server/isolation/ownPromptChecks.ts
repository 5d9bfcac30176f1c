import { randomUUID } from 'node:crypto';
import { GateError } from '../errors.js';
import { editedMembers } from '../pipeline/jsonMembers.js';
import type { BodyCheck } from '../pipeline/steps.js';
import type { Upstream } from '../upstream/upstream.js';
import { fetchQueue } from './comfyQueue.js';
import type { PromptOwners } from './promptOwners.js';

const NOTHING = new Set<string>();

/**
 * Under team isolation a caller interrupts only their own prompt. A global interrupt (no prompt_id)
 * is turned into a targeted one for the caller's prompt running now, so a prompt of someone else
 * that starts in between is never hit. When the caller has nothing running it targets an id no
 * prompt has: ComfyUI's own 200 no-op, which is what clients expect of an idle queue.
 */
export function interruptCheck(owners: PromptOwners, upstream: Upstream): BodyCheck {
  return async function ownInterrupt(exchange, body) {
    const subject = exchange.isolatedAs;
    if (exchange.bodyCheck !== 'interrupt' || subject === null) return undefined;
    const given = body.value('prompt_id');
    if (typeof given === 'string' && given !== '') {
      if (owners.owns(subject, given)) return undefined;
      return new GateError(
        'not_your_prompt',
        `Prompt ${given} is not one of yours; you can only interrupt your own prompts`
      );
    }
    const queue = await fetchQueue(upstream);
    if (queue === undefined) {
      return new GateError('upstream_unreachable', `ComfyUI at ${upstream.url} did not say which prompt is running`);
    }
    const running = queue.running[0];
    const own = running !== undefined && (running.owner ?? owners.ownerOf(running.id)) === subject;
    // A fresh UUID: newer ComfyUI builds accept only UUIDs as prompt ids.
    const target = own ? running.id : randomUUID();
    exchange.body = [Buffer.from(JSON.stringify({ prompt_id: target }), 'utf8')];
    return undefined;
  };
}

/** The jobs API's bulk cancel: every id it names (in any top-level list or field) must be the caller's. */
export function jobCancelCheck(owners: PromptOwners): BodyCheck {
  return function ownJobCancel(exchange, body) {
    const subject = exchange.isolatedAs;
    if (exchange.bodyCheck !== 'job_cancel' || subject === null) return undefined;
    const ids: string[] = [];
    for (const value of body.values()) {
      if (typeof value === 'string') ids.push(value);
      else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') ids.push(item);
    }
    if (ids.length === 0) return new GateError('bad_request', 'Name the jobs to cancel by their ids');
    const others = ids.filter((id) => !owners.owns(subject, id));
    if (others.length === 0) return undefined;
    return new GateError(
      'not_your_prompt',
      `Job ${others[0]} is not one of your prompts; you can only cancel your own`
    );
  };
}

/**
 * `POST /queue` / `POST /history` {delete}: deletions free queue slots (`exchange.deletedPrompts`)
 * and, under team isolation, must name the caller's own prompts.
 */
export function queueDeleteCheck(owners: PromptOwners): BodyCheck {
  return function ownDeletes(exchange, body) {
    const members = body.members;
    if (exchange.bodyCheck !== 'queue_or_history' || members === undefined) return undefined;
    const deleted = body.value('delete');
    if (!Array.isArray(deleted)) return undefined;
    const ids = deleted.filter((id): id is string => typeof id === 'string');
    const isolatedAs = exchange.isolatedAs;
    if (isolatedAs === null) {
      exchange.deletedPrompts = ids;
      return undefined;
    }
    const others = ids.filter((id) => {
      const owner = owners.ownerOf(id);
      return owner !== undefined && owner !== isolatedAs;
    });
    if (others.length > 0) {
      return new GateError(
        'not_your_prompt',
        `${others.length === 1 ? 'Prompt ' + others[0] + ' is' : others.length + ' of these prompts are'} not yours; you can only delete your own prompts`
      );
    }
    // An id of no known owner may be a teammate's from before a restart of the gate: it is left
    // out, which is what ComfyUI does with an id it does not know.
    const own = ids.filter((id) => owners.owns(isolatedAs, id));
    if (own.length !== deleted.length) {
      exchange.body = body.asBuffers(editedMembers(members, NOTHING, {}, { delete: JSON.stringify(own) }));
    }
    exchange.deletedPrompts = own;
    return undefined;
  };
}
