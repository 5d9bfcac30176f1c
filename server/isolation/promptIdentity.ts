import { randomUUID } from 'node:crypto';
import { GateError } from '../errors.js';
import { editedMembers } from '../pipeline/jsonMembers.js';
import type { BodyCheck } from '../pipeline/steps.js';
import { stampOwner } from './ownerStamp.js';
import type { PromptOwners } from './promptOwners.js';

export interface PromptIdDeps {
  owners: PromptOwners;
  /** Whose queued prompt an id is, as the limits count them (limits/promptTracker.ts). */
  queued: { ownerOf(promptId: string): string | undefined };
  /** Whether a caller may aim a prompt at a clientId (no other caller's WebSocket holds it). */
  mayUseClientId: (clientId: string, subject: string | null) => boolean;
}

/** A `POST /prompt` may not take over another caller's prompt_id or client_id. */
export function promptIdCheck({ owners, queued, mayUseClientId }: PromptIdDeps): BodyCheck {
  return function ownIds(exchange, body) {
    if (exchange.bodyCheck !== 'prompt' || body.members === undefined) return undefined;
    const subject = exchange.limitSubject;
    const given = body.value('prompt_id');
    // ComfyUI takes str() of anything, so a number would pass as an id the gate never checked.
    if (given !== undefined && typeof given !== 'string')
      return new GateError('bad_request', 'prompt_id must be a string');
    if (subject === null) return undefined;
    if (typeof given === 'string') {
      // A reused prompt_id would overwrite the other caller's history entry.
      const owner = owners.ownerOf(given) ?? queued.ownerOf(given);
      if (owner !== undefined && owner !== subject) {
        return new GateError('conflict', `prompt_id ${given} belongs to another caller's prompt`);
      }
    }
    const clientId = body.value('client_id');
    if (typeof clientId === 'string' && clientId !== '' && !mayUseClientId(clientId, subject)) {
      // ComfyUI would send this prompt's progress and results to the other caller's socket.
      return new GateError('conflict', `client_id ${clientId} belongs to another caller's open WebSocket`);
    }
    return undefined;
  };
}

/**
 * The last check of a `POST /prompt`: the gate sets the prompt_id and client_id a prompt lacks and
 * stamps its owner, in one edit of the body (with the members other checks drop or set), and records the
 * owner before forwarding: ComfyUI may start the prompt, and send its first WebSocket messages,
 * before its answer to this request reaches the gate.
 */
export function promptStampCheck(owners: PromptOwners): BodyCheck {
  return function stamp(exchange, body) {
    const members = body.members;
    if (exchange.bodyCheck !== 'prompt' || members === undefined) return undefined;
    const subject = exchange.limitSubject;
    const given = body.value('prompt_id');
    const clientId = body.value('client_id');
    const promptId = typeof given === 'string' ? given : randomUUID();
    const add: Record<string, string> = {};
    if (given === undefined) add['prompt_id'] = promptId;
    if (typeof clientId !== 'string' || clientId === '') add['client_id'] = randomUUID().replace(/-/g, '');
    const edited =
      subject === null
        ? editedMembers(members, body.remove, add, body.addRaw)
        : stampOwner(body.bytes, members, subject, body.remove, add, body.addRaw);
    if (edited !== undefined) exchange.body = body.asBuffers(edited);
    exchange.promptId = promptId;
    return subject === null ? undefined : owners.claim(promptId, subject);
  };
}
