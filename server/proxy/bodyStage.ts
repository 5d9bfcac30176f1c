import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { GateError, headerObject } from '../errors.js';
import { ownerOfTuple, promptIdOfTuple, stampOwner } from '../isolation/ownerStamp.js';
import type { PromptOwners } from '../isolation/promptOwners.js';
import type { PromptTracker } from '../limits/promptTracker.js';
import type { RateLimiter } from '../limits/rateLimiter.js';
import { forbiddenScopeMessage, hasScope } from '../policy/scopes.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import type { BodyBudget } from './bodyBudget.js';
import { arrayItems, editedMembers, objectMembers, type JsonMember, type JsonPiece } from './jsonMembers.js';
import type { Exchange } from './pipeline.js';
import { readInspectedBody, type Reservation } from './readInspectedBody.js';
import type { Upstream } from './upstream.js';

export interface BodyStageDeps {
  limiter: RateLimiter;
  tracker: PromptTracker;
  owners: PromptOwners;
  upstream: Upstream;
  settings: SettingsStore;
  /** Whether a caller may aim a prompt at a clientId (no other caller's WebSocket holds it). */
  mayUseClientId: (clientId: string, subject: string | null) => boolean;
  /** Prompts carry whole workflows; anything larger is no prompt. */
  maxBodyBytes: number;
  /** What all bodies being inspected at once may hold. */
  budget: BodyBudget;
}

/** Queue jumping: only roles that may manage the queue keep these. */
const QUEUE_JUMPING = new Set(['front', 'number']);
const NOTHING = new Set<string>();
/** Long enough for a prompt or two ahead to be forwarded and their memory given back. */
const BUSY_RETRY_AFTER_SECONDS = '5';

/**
 * The few requests whose body the gate reads before forwarding: `POST /prompt` (prompt quotas,
 * fair queueing, client_id/prompt_id and the owner stamp set by the gate, queue jumping removed),
 * `POST /queue` / `POST /history` (`clear` needs the manage scope; deletions free queue slots and,
 * under team isolation, must name the caller's own prompts) and, under team isolation,
 * `POST /interrupt` and the jobs API's cancel (only the caller's own prompts).
 *
 * A prompt can be 100 MB of workflow, so the body is held once, as the bytes that came in: its
 * top-level members are located in place (never parsed into objects), only the few small members
 * the checks need are parsed, and an edited body is forwarded as new pieces around slices of the
 * original bytes.
 */
export function createBodyStage({
  limiter,
  tracker,
  owners,
  upstream,
  settings,
  mayUseClientId,
  maxBodyBytes,
  budget,
}: BodyStageDeps) {
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
    const bytes = read.bytes;
    exchange.body = [bytes];
    const members = membersOf(bytes);
    const value = (key: string): unknown => (members ? memberValue(bytes, members, key) : undefined);
    const isolatedAs = exchange.isolatedAs;
    if (exchange.bodyCheck === 'interrupt' && isolatedAs !== null) {
      return checkInterrupt(exchange, value('prompt_id'), isolatedAs, owners, upstream);
    }
    if (exchange.bodyCheck === 'job_cancel' && isolatedAs !== null) {
      const values = members ? members.map((m) => memberValue(bytes, [m], m.key)) : [];
      return checkJobCancel(values, isolatedAs, owners);
    }
    // ComfyUI answers what is not a JSON object itself; the gate stays out of its way.
    if (members === undefined) return undefined;
    const principal = exchange.principal;
    const { anonymous } = settings.current;
    const role = principal ? principal.role : anonymous.role;
    const scopes = principal ? principal.scopes : null;
    const mayManage = hasScope(role, scopes, 'manage');

    if (exchange.bodyCheck === 'queue_or_history') {
      if (value('clear') && !mayManage) {
        return new GateError(
          'forbidden_scope',
          forbiddenScopeMessage('manage', 'POST', exchange.path + ' {clear}', role, scopes)
        );
      }
      const deleted = value('delete');
      if (!Array.isArray(deleted)) return undefined;
      const ids = deleted.filter((id): id is string => typeof id === 'string');
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
        exchange.body = asBuffers(bytes, editedMembers(members, NOTHING, {}, { delete: JSON.stringify(own) }));
      }
      exchange.deletedPrompts = own;
      return undefined;
    }

    const subject = exchange.limitSubject;
    const given = value('prompt_id');
    // ComfyUI takes str() of anything, so a number would pass as an id the gate never checked.
    if (given !== undefined && typeof given !== 'string')
      return new GateError('bad_request', 'prompt_id must be a string');
    if (typeof given === 'string' && subject !== null) {
      // A reused prompt_id would overwrite the other caller's history entry.
      const owner = owners.ownerOf(given) ?? tracker.ownerOf(given);
      if (owner !== undefined && owner !== subject) {
        return new GateError('conflict', `prompt_id ${given} belongs to another caller's prompt`);
      }
    }
    const clientId = value('client_id');
    if (subject !== null && typeof clientId === 'string' && clientId !== '' && !mayUseClientId(clientId, subject)) {
      // ComfyUI would send this prompt's progress and results to the other caller's socket.
      return new GateError('conflict', `client_id ${clientId} belongs to another caller's open WebSocket`);
    }
    if (subject !== null) {
      const limits = principal ? principal.limits : anonymous.limits;
      const quota = limiter.checkPrompt(subject, limits.promptsPerDay, Date.now());
      if (!quota.allowed) return new GateError(quota.code, quota.message, headerObject(quota.headers));
      if (limits.maxQueued !== null && tracker.pending(subject) >= limits.maxQueued) {
        const live = await queuedPromptIds(upstream);
        if (live) tracker.reconcile(subject, live);
        const pending = tracker.pending(subject);
        if (pending >= limits.maxQueued) {
          return new GateError(
            'queue_limit',
            `${pending} of your prompts are still queued or running (limit ${limits.maxQueued}); queue more when one finishes`,
            { 'retry-after': '5' }
          );
        }
      }
    }

    const promptId = typeof given === 'string' ? given : randomUUID();
    const add: Record<string, string> = {};
    if (given === undefined) add['prompt_id'] = promptId;
    if (typeof clientId !== 'string' || clientId === '') add['client_id'] = randomUUID().replace(/-/g, '');
    const remove = mayManage ? NOTHING : QUEUE_JUMPING;
    const edited =
      subject === null ? editedMembers(members, remove, add) : stampOwner(bytes, members, subject, remove, add);
    if (edited !== undefined) exchange.body = asBuffers(bytes, edited);
    exchange.promptId = promptId;
    // Before forwarding: ComfyUI may start the prompt, and send its first WebSocket messages,
    // before its answer to this request reaches the gate.
    if (subject !== null) owners.record(promptId, subject);
    return undefined;
  };
}

/** The top-level members of a JSON object body, or undefined when it is none. */
function membersOf(bytes: Buffer): JsonMember[] | undefined {
  try {
    return objectMembers(bytes);
  } catch {
    // A key that is no valid JSON string: ComfyUI refuses the body itself.
    return undefined;
  }
}

/** The value of the last member named `key` (JSON's last one wins, in Python as in JavaScript). */
function memberValue(bytes: Buffer, members: readonly JsonMember[], key: string): unknown {
  const member = members.findLast((m) => m.key === key);
  if (member === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8', member.valueStart, member.valueEnd)) as unknown;
  } catch {
    return undefined;
  }
}

/** Edited body pieces as bytes: new text encoded, kept ranges sliced (not copied) from the original. */
function asBuffers(bytes: Buffer, pieces: readonly JsonPiece[]): Buffer[] {
  return pieces.map((piece) =>
    typeof piece === 'string' ? Buffer.from(piece, 'utf8') : bytes.subarray(piece.start, piece.end)
  );
}

function megabytes(bytes: number): string {
  return `${Math.ceil(bytes / (1 << 20))} MB`;
}

/**
 * Under team isolation a caller interrupts only their own prompt. A global interrupt (no prompt_id)
 * is turned into a targeted one for the caller's prompt running now, so a prompt of someone else
 * that starts in between is never hit. When the caller has nothing running it targets an id no
 * prompt has: ComfyUI's own 200 no-op, which is what clients expect of an idle queue.
 */
async function checkInterrupt(
  exchange: Exchange,
  given: unknown,
  subject: string,
  owners: PromptOwners,
  upstream: Upstream
): Promise<GateError | undefined> {
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
}

/** The jobs API's bulk cancel: every id it names (in any top-level list or field) must be the caller's. */
function checkJobCancel(values: readonly unknown[], subject: string, owners: PromptOwners): GateError | undefined {
  const ids: string[] = [];
  for (const value of values) {
    if (typeof value === 'string') ids.push(value);
    else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') ids.push(item);
  }
  if (ids.length === 0) return new GateError('bad_request', 'Name the jobs to cancel by their ids');
  const others = ids.filter((id) => !owners.owns(subject, id));
  if (others.length === 0) return undefined;
  return new GateError('not_your_prompt', `Job ${others[0]} is not one of your prompts; you can only cancel your own`);
}

interface QueuedPrompt {
  id: string;
  /** The owner stamp the gate wrote into the prompt, when it has one. */
  owner: string | undefined;
}

/** What ComfyUI has running and pending now; undefined when it did not answer. */
async function fetchQueue(
  upstream: Upstream
): Promise<{ running: QueuedPrompt[]; pending: QueuedPrompt[] } | undefined> {
  let text: string;
  try {
    const res = await upstream.pool.request({
      path: '/queue',
      method: 'GET',
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    text = await res.body.text();
    if (res.statusCode !== 200) return undefined;
  } catch {
    return undefined;
  }
  const members = objectMembers(text);
  if (!members) return undefined;
  const list = (key: string): QueuedPrompt[] => {
    const member = members.find((m) => m.key === key);
    const items = member ? arrayItems(text, member.valueStart, member.valueEnd) : undefined;
    const prompts: QueuedPrompt[] = [];
    for (const [start, end] of items ?? []) {
      const id = promptIdOfTuple(text, start, end);
      if (id !== undefined) prompts.push({ id, owner: ownerOfTuple(text, start, end) });
    }
    return prompts;
  };
  return { running: list('queue_running'), pending: list('queue_pending') };
}

/** What ComfyUI still has running or pending, for reconciling the per-caller counts. */
async function queuedPromptIds(upstream: Upstream): Promise<Set<string> | undefined> {
  const queue = await fetchQueue(upstream);
  // Unknown is not empty: without an answer the counts stay as they are.
  if (queue === undefined) return undefined;
  return new Set([...queue.running, ...queue.pending].map((p) => p.id));
}
