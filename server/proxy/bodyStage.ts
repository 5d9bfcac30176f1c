import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GateError, headerObject } from '../errors.js';
import type { PromptTracker } from '../limits/promptTracker.js';
import type { RateLimiter } from '../limits/rateLimiter.js';
import { forbiddenScopeMessage, hasScope } from '../policy/scopes.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import { editTopLevelMembers } from './jsonMembers.js';
import type { Exchange } from './pipeline.js';
import type { Upstream } from './upstream.js';

export interface BodyStageDeps {
  limiter: RateLimiter;
  tracker: PromptTracker;
  upstream: Upstream;
  settings: SettingsStore;
  /** Prompts carry whole workflows; anything larger is no prompt. */
  maxBodyBytes: number;
}

/** Queue jumping: only roles that may manage the queue keep these. */
const QUEUE_JUMPING = new Set(['front', 'number']);
const NOTHING = new Set<string>();

/**
 * The few requests whose body the gate reads before forwarding: `POST /prompt` (prompt quotas,
 * fair queueing, client_id/prompt_id set by the gate, queue jumping removed) and `POST /queue` /
 * `POST /history` (`clear` needs the manage scope; deletions free queue slots).
 */
export function createBodyStage({ limiter, tracker, upstream, settings, maxBodyBytes }: BodyStageDeps) {
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
      return undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const body = parsed as Record<string, unknown>;
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
      if (Array.isArray(deleted))
        exchange.deletedPrompts = deleted.filter((id): id is string => typeof id === 'string');
      return undefined;
    }

    const subject = exchange.limitSubject;
    const given = body['prompt_id'];
    if (given !== undefined && typeof given !== 'string') return undefined;
    if (typeof given === 'string' && subject !== null) {
      const owner = tracker.ownerOf(given);
      if (owner !== undefined && owner !== subject) {
        return new GateError('conflict', `prompt_id ${given} belongs to another caller's queued prompt`);
      }
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
    const edited = editTopLevelMembers(text, mayManage ? NOTHING : QUEUE_JUMPING, add);
    if (edited !== undefined) exchange.body = Buffer.from(edited, 'utf8');
    exchange.promptId = promptId;
    return undefined;
  };
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

/** What ComfyUI still has running or pending, for reconciling the per-caller counts. */
async function queuedPromptIds(upstream: Upstream): Promise<Set<string> | undefined> {
  const ids = new Set<string>();
  try {
    const res = await upstream.pool.request({
      path: '/queue',
      method: 'GET',
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    const queue = (await res.body.json()) as { queue_running?: unknown[]; queue_pending?: unknown[] };
    for (const item of [...(queue.queue_running ?? []), ...(queue.queue_pending ?? [])]) {
      if (Array.isArray(item) && typeof item[1] === 'string') ids.add(item[1]);
    }
  } catch {
    // Unknown is not empty: without an answer the counts stay as they are.
    return undefined;
  }
  return ids;
}
