import { GateError } from '../errors.js';
import { hasScope } from '../keys/roleScopes.js';
import type { Exchange } from '../pipeline/exchange.js';
import type { RequestStep } from '../pipeline/steps.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import type { ComfyUsers } from './comfyUsers.js';
import { ownSpaceRoute } from './ownSpaceRoutes.js';
import type { FileAccess } from './fileAccess.js';
import { fileKey, maskOriginalKey, viewedFileKey } from './fileKeys.js';
import type { FileOwners } from './fileOwners.js';
import { ownWindowOf } from './ownWindow.js';
import { isolatedAnswerFilter } from './responseFilters.js';
import { guardUpload, overwriteRefusal, type UploadForm } from './uploadGuard.js';
import type { PromptOwners } from './promptOwners.js';

const JOB_PATH = /^\/jobs\/([^/]+)$/;
const JOB_CANCEL_PATH = /^\/jobs\/([^/]+)\/cancel$/;

/**
 * Team isolation (DESIGN "Sharing safely"): a caller without the manage scope sees and touches only
 * their own prompts. This step marks such a caller and the answers and bodies the gate must look
 * at for them; operators and admins pass untouched. Runs after the limit step, which names the subject.
 * Under ComfyUI's `--multi-user`, an isolated caller's `Comfy-User` is their key's own ComfyUI user;
 * without it, their settings and per-user files are kept apart by the gate (ownSpaceAnswers.ts).
 */
export function isolationStep(
  settings: SettingsStore,
  owners: PromptOwners,
  users: ComfyUsers,
  files: FileAccess,
  fileOwners: FileOwners,
  /** A prompt's average GPU seconds, for the start estimate in an isolated caller's `/queue`. */
  averagePromptSeconds: () => number | undefined
): RequestStep {
  const mark = markIsolated(settings, owners, users, files, fileOwners);
  return function isolate(exchange: Exchange): GateError | undefined {
    const refusal = mark(exchange);
    const view = exchange.isolatedView;
    if (view !== null)
      exchange.answerFilter = isolatedAnswerFilter(exchange, view, owners, files, averagePromptSeconds);
    return refusal;
  };
}

/** Marks an isolated caller and what the gate must look at for them; the refusal of what is not theirs. */
function markIsolated(
  settings: SettingsStore,
  owners: PromptOwners,
  users: ComfyUsers,
  files: FileAccess,
  fileOwners: FileOwners
): (exchange: Exchange) => GateError | undefined {
  return (exchange) => {
    const subject = exchange.limitSubject;
    if (subject === null) return undefined;
    const { isolation, anonymous } = settings.current;
    if (!isolation) return undefined;
    const principal = exchange.principal;
    const role = principal ? principal.role : anonymous.role;
    if (hasScope(role, principal ? principal.scopes : null, 'manage')) return undefined;
    exchange.isolatedAs = subject;
    const method = exchange.req.method;
    // ComfyUI reads no user from a WebSocket handshake.
    if (exchange.req.headers.upgrade === undefined) {
      useOwnComfyUser(exchange, subject, users);
      exchange.ownSpace = ownSpaceRoute(method, exchange.path);
    }

    // ComfyUI's jobs routes are registered as `/api/jobs…`, so they also answer at `/api/api/jobs…`.
    const path = exchange.path.startsWith('/api/jobs') ? exchange.path.slice(4) : exchange.path;
    if (path === '/view' && (method === 'GET' || method === 'HEAD')) return ownFileOnly(exchange, subject, files);
    if (method === 'GET') {
      if (path === '/queue') exchange.isolatedView = 'queue';
      else if (path === '/users') exchange.isolatedView = 'users';
      else if (path === '/history' || path.startsWith('/history/')) {
        exchange.isolatedView = 'history';
        if (path === '/history') exchange.ownWindow = ownWindowOf('history', exchange.req.url ?? '');
      } else if (path === '/system_stats') exchange.isolatedView = 'system_stats';
      else if (path === '/jobs') {
        exchange.isolatedView = 'jobs';
        exchange.ownWindow = ownWindowOf('jobs', exchange.req.url ?? '');
      } else if (path.startsWith('/jobs/')) {
        exchange.isolatedView = 'job';
        return ownJobOnly(path, JOB_PATH, subject, owners, 'not_found');
      }
    } else if (method === 'POST') {
      if (path === '/interrupt') exchange.bodyCheck = 'interrupt';
      else if (path === '/upload/image' || path === '/upload/mask') {
        exchange.isolatedView = 'upload';
        exchange.bodyFilter = (req) =>
          guardUpload(req, req.headers['content-type'], (form) => checkUpload(form, subject, files, fileOwners));
      } else if (path === '/jobs/cancel') exchange.bodyCheck = 'job_cancel';
      else if (path.startsWith('/jobs/')) return ownJobOnly(path, JOB_CANCEL_PATH, subject, owners, 'not_your_prompt');
    }
    return undefined;
  };
}

/** `/view` (and its previews) of another teammate's file answers as ComfyUI does for a missing one. */
function ownFileOnly(exchange: Exchange, subject: string, files: FileAccess): GateError | undefined {
  const url = exchange.req.url ?? '';
  const query = url.indexOf('?');
  const key = query === -1 ? undefined : viewedFileKey(new URLSearchParams(url.slice(query + 1)));
  // A reference ComfyUI refuses itself (400, 403 or 404) reads no file.
  if (key === undefined) return undefined;
  const decided = files.check(subject, key);
  if (!(decided instanceof Promise)) return decided;
  addPending(exchange, () => decided);
  return undefined;
}

/**
 * An upload may not replace another teammate's file (`overwrite`), nor copy one (`/upload/mask`
 * merges the mask into the `original_ref` image and saves the result as the caller's).
 */
function checkUpload(
  form: UploadForm,
  subject: string,
  files: FileAccess,
  fileOwners: FileOwners
): GateError | undefined | Promise<GateError | undefined> {
  const overwrite = form.fields.get('overwrite');
  if (form.fileName !== undefined && (overwrite === 'true' || overwrite === '1')) {
    const key = fileKey(form.fields.get('type') ?? 'input', form.fields.get('subfolder') ?? '', form.fileName);
    const others = key === undefined ? undefined : fileOwners.ownersOf(key)?.some((owner) => owner !== subject);
    if (others) return overwriteRefusal(form.fileName);
  }
  const ref = form.fields.get('original_ref');
  if (ref === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(ref);
  } catch {
    // ComfyUI refuses a broken reference itself (500).
    return undefined;
  }
  const key = maskOriginalKey(parsed);
  return key === undefined ? undefined : files.check(subject, key);
}

/** Chains work that must finish before forwarding after what an earlier part of the step started. */
function addPending(exchange: Exchange, next: () => Promise<GateError | undefined>): void {
  const before = exchange.pending;
  exchange.pending = before ? before.then((refusal) => refusal ?? next()) : next();
}

function useOwnComfyUser(exchange: Exchange, subject: string, users: ComfyUsers): void {
  const multiUser = users.multiUser(Date.now());
  if (multiUser === false) return;
  const known = multiUser ? users.userOf(subject) : undefined;
  if (known !== undefined) {
    exchange.comfyUser = known;
    return;
  }
  // The first isolated request asks ComfyUI whether it runs with --multi-user; each key's first
  // one under it creates the key's ComfyUI user.
  const ready = multiUser ? Promise.resolve() : users.refresh();
  exchange.pending = ready.then(async () => {
    if (!users.multiUser(Date.now())) return undefined;
    const user = await users.ensure(subject, exchange.principal?.name);
    if (typeof user !== 'string') return user;
    exchange.comfyUser = user;
    return undefined;
  });
}

function ownJobOnly(
  path: string,
  pattern: RegExp,
  subject: string,
  owners: PromptOwners,
  code: 'not_found' | 'not_your_prompt'
): GateError | undefined {
  const id = pattern.exec(path)?.[1];
  if (id !== undefined && owners.owns(subject, id)) return undefined;
  if (id === undefined) return new GateError(code, `${path} is not open to your role while team isolation is on`);
  return code === 'not_found'
    ? new GateError('not_found', `No job ${id} of yours is known`)
    : new GateError('not_your_prompt', `Job ${id} is not one of your prompts; you can only cancel your own`);
}
