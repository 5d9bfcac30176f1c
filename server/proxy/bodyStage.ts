import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GateError, headerObject } from '../errors.js';
import { ownerOfTuple, promptIdOfTuple, stampOwner } from '../isolation/ownerStamp.js';
import type { PromptOwners } from '../isolation/promptOwners.js';
import type { PromptTracker } from '../limits/promptTracker.js';
import type { RateLimiter } from '../limits/rateLimiter.js';
import { forbiddenScopeMessage, hasScope } from '../policy/scopes.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import { arrayItems, editTopLevelMembers, isJsonObject, objectMembers } from './jsonMembers.js';
import type { Exchange } from './pipeline.js';
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
}

/** Queue jumping: only roles that may manage the queue keep these. */
const QUEUE_JUMPING = new Set(['front', 'number']);
const NOTHING = new Set<string>();

/**
 * The few requests whose body the gate reads before forwarding: `POST /prompt` (prompt quotas,
 * fair queueing, client_id/prompt_id and the owner stamp set by the gate, queue jumping removed),
 * `POST /queue` / `POST /history` (`clear` needs the manage scope; deletions free queue slots and,
 * under team isolation, must name the caller's own prompts) and, under team isolation,
 * `POST /interrupt` and the jobs API's cancel (only the caller's own prompts).
 */
export function createBodyStage({
  limiter,
  tracker,
  owners,
  upstream,
  settings,
  mayUseClientId,
  maxBodyBytes,
}: BodyStageDeps) {
  return async function inspectBody(exchange: Exchange): Promise<GateError | undefined> {
    const raw = await readBody(exchange.req, maxBodyBytes);
    if (raw === undefined) {
      return new GateError('payload_too_large', `The request body is larger than ${maxBodyBytes} bytes`);
    }
    exchange.body = raw;
    const text = raw.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // ComfyUI answers broken JSON itself (500); the gate stays out of its way.
      parsed = undefined;
    }
    const body = isJsonObject(parsed) ? parsed : undefined;
    const isolatedAs = exchange.isolatedAs;
    if (exchange.bodyCheck === 'interrupt' && isolatedAs !== null) {
      return checkInterrupt(exchange, body, isolatedAs, owners, upstream);
    }
    if (exchange.bodyCheck === 'job_cancel' && isolatedAs !== null) return checkJobCancel(body, isolatedAs, owners);
    if (body === undefined) return undefined;
    const principal = exchange.principal;
    const { anonymous } = settings.current;
    const role = principal ? principal.role : anonymous.role;
    const scopes = principal ? principal.scopes : null;
    const mayManage = hasScope(role, scopes, 'manage');

    if (exchange.bodyCheck === 'queue_or_history') {
      if (body['clear'] && !mayManage) {
        return new GateError(
          'forbidden_scope',
          forbiddenScopeMessage('manage', 'POST', exchange.path + ' {clear}', role, scopes)
        );
      }
      const deleted = body['delete'];
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
        exchange.body = Buffer.from(
          editTopLevelMembers(text, NOTHING, {}, { delete: JSON.stringify(own) }) ?? JSON.stringify({ delete: own }),
          'utf8'
        );
      }
      exchange.deletedPrompts = own;
      return undefined;
    }

    const subject = exchange.limitSubject;
    const given = body['prompt_id'];
    if (given !== undefined && typeof given !== 'string') return undefined;
    if (typeof given === 'string' && subject !== null) {
      // A reused prompt_id would overwrite the other caller's history entry.
      const owner = owners.ownerOf(given) ?? tracker.ownerOf(given);
      if (owner !== undefined && owner !== subject) {
        return new GateError('conflict', `prompt_id ${given} belongs to another caller's prompt`);
      }
    }
    const clientId = body['client_id'];
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
    if (typeof body['client_id'] !== 'string' || body['client_id'] === '')
      add['client_id'] = randomUUID().replace(/-/g, '');
    const remove = mayManage ? NOTHING : QUEUE_JUMPING;
    const edited = subject === null ? editTopLevelMembers(text, remove, add) : stampOwner(text, subject, remove, add);
    if (edited !== undefined) exchange.body = Buffer.from(edited, 'utf8');
    exchange.promptId = promptId;
    // Before forwarding: ComfyUI may start the prompt, and send its first WebSocket messages,
    // before its answer to this request reaches the gate.
    if (subject !== null) owners.record(promptId, subject);
    return undefined;
  };
}

/**
 * Under team isolation a caller interrupts only their own prompt. A global interrupt (no prompt_id)
 * is turned into a targeted one for the caller's prompt running now, so a prompt of someone else
 * that starts in between is never hit. When the caller has nothing running it targets an id no
 * prompt has: ComfyUI's own 200 no-op, which is what clients expect of an idle queue.
 */
async function checkInterrupt(
  exchange: Exchange,
  body: Record<string, unknown> | undefined,
  subject: string,
  owners: PromptOwners,
  upstream: Upstream
): Promise<GateError | undefined> {
  const given = body?.['prompt_id'];
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
  exchange.body = Buffer.from(JSON.stringify({ prompt_id: target }), 'utf8');
  return undefined;
}

/** The jobs API's bulk cancel: every id it names (in any top-level list or field) must be the caller's. */
function checkJobCancel(
  body: Record<string, unknown> | undefined,
  subject: string,
  owners: PromptOwners
): GateError | undefined {
  const ids: string[] = [];
  for (const value of Object.values(body ?? {})) {
    if (typeof value === 'string') ids.push(value);
    else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') ids.push(item);
  }
  if (ids.length === 0) return new GateError('bad_request', 'Name the jobs to cancel by their ids');
  const others = ids.filter((id) => !owners.owns(subject, id));
  if (others.length === 0) return undefined;
  return new GateError('not_your_prompt', `Job ${others[0]} is not one of your prompts; you can only cancel your own`);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
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
