import {
  arrayItems,
  isJsonObject,
  memberText,
  objectMembers,
  withMemberValue,
  type JsonMember,
} from '../pipeline/jsonMembers.js';
import { filterUsers } from './comfyUsers.js';
import type { FileAccess } from './fileAccess.js';
import { uploadedFileKey } from './fileKeys.js';
import { queuePlace, type QueuedPrompt } from '../fairness/queueSnapshot.js';
import { numberOfTuple, ownerOfTuple, promptIdOfTuple } from './ownerStamp.js';
import type { PromptOwners } from './promptOwners.js';
import { redactArgv, redactExecutionError } from './redactErrors.js';
import type { AnswerFilter } from '../pipeline/answerFilter.js';
import type { Exchange } from '../pipeline/exchange.js';
import type { IsolatedView } from '../pipeline/findings.js';
import { ownPage, windowPath } from './ownWindow.js';

/**
 * The filter of an isolated caller's view: ComfyUI's answer with only what is theirs, and for a
 * page of `/history` or `/jobs`, their own page of it (asking ComfyUI for more history if needed).
 */
export function isolatedAnswerFilter(
  exchange: Exchange,
  view: IsolatedView,
  owners: PromptOwners,
  files: FileAccess,
  averagePromptSeconds: () => number | undefined
): AnswerFilter {
  const window = exchange.ownWindow;
  return {
    upstreamPath: (path) => (window === null ? path : windowPath(path, window)),
    rewrite(answer) {
      const own = filterResponse(
        view,
        answer,
        exchange.isolatedAs!,
        owners,
        exchange.comfyUser,
        files,
        averagePromptSeconds
      );
      return own !== undefined && window !== null ? ownPage(window, answer, own) : own;
    },
  };
}

/**
 * Rewrites one JSON answer of ComfyUI for `subject`, or answers undefined when the text is not the
 * shape the gate knows: the caller then gets an error instead of other teammates' data.
 */
export function filterResponse(
  view: IsolatedView,
  json: string,
  subject: string,
  owners: PromptOwners,
  comfyUser: string | null,
  /** Learns the files the answer shows to be the caller's (their uploads, their prompts' outputs). */
  files?: FileAccess,
  /** A prompt's average GPU seconds, for when the caller's next prompt starts (`/queue`); undefined: unknown. */
  averagePromptSeconds?: () => number | undefined
): string | undefined {
  try {
    switch (view) {
      case 'queue':
        return filterQueue(json, subject, owners, averagePromptSeconds?.());
      case 'history':
        return filterHistory(json, subject, owners, files);
      case 'system_stats':
        return filterSystemStats(json);
      case 'jobs':
        return filterJobs(json, subject, owners);
      case 'job':
        return redactedJob(json, 0, json.length);
      case 'users':
        return filterUsers(json, comfyUser);
      case 'upload':
        return recordUpload(json, subject, files);
    }
  } catch {
    // A value the text locator accepted but JSON.parse does not: not a shape the gate knows.
    return undefined;
  }
}

/** Owner of a queue or history tuple: its stamp (remembered for later checks), else what the gate recorded. */
function tupleOwner(json: string, start: number, end: number, owners: PromptOwners): string | undefined {
  const id = promptIdOfTuple(json, start, end);
  const stamped = ownerOfTuple(json, start, end);
  if (stamped !== undefined) {
    if (id !== undefined && owners.ownerOf(id) !== stamped) owners.record(id, stamped);
    return stamped;
  }
  return id === undefined ? undefined : owners.ownerOf(id);
}

/**
 * `/queue`: the caller's own running and pending items; other teammates' items are counted in
 * `comfygate_hidden` (so a teammate knows the GPU is busy), never shown. `comfygate` tells where the
 * caller's next prompt stands in the whole queue and about when it starts (fairness/queueSnapshot.ts).
 */
function filterQueue(
  json: string,
  subject: string,
  owners: PromptOwners,
  averagePromptSeconds: number | undefined
): string | undefined {
  const members = objectMembers(json);
  if (!members) return undefined;
  const hidden = { running: 0, pending: 0 };
  const all: { running: QueuedPrompt[]; pending: QueuedPrompt[] } = { running: [], pending: [] };
  const out: string[] = [];
  for (const member of members) {
    const list = member.key === 'queue_running' ? 'running' : member.key === 'queue_pending' ? 'pending' : null;
    if (list === null) {
      if (member.key !== 'comfygate_hidden' && member.key !== 'comfygate') out.push(memberText(json, member));
      continue;
    }
    const items = arrayItems(json, member.valueStart, member.valueEnd);
    if (!items) return undefined;
    const kept: string[] = [];
    for (const [start, end] of items) {
      const owner = tupleOwner(json, start, end, owners);
      const id = promptIdOfTuple(json, start, end);
      if (id !== undefined) all[list].push({ id, owner, number: numberOfTuple(json, start, end) });
      if (owner === subject) kept.push(json.slice(start, end));
      else hidden[list]++;
    }
    out.push(`${JSON.stringify(member.key)}:[${kept.join(',')}]`);
  }
  out.push(`"comfygate_hidden":${JSON.stringify(hidden)}`);
  out.push(`"comfygate":${JSON.stringify(queuePlace(all, subject, averagePromptSeconds))}`);
  return `{${out.join(',')}}`;
}

/** `/history` and `/history/{id}`: only the caller's own entries, their errors without server paths. */
function filterHistory(
  json: string,
  subject: string,
  owners: PromptOwners,
  files: FileAccess | undefined
): string | undefined {
  const entries = objectMembers(json);
  if (!entries) return undefined;
  const out: string[] = [];
  for (const entry of entries) {
    const fields = objectMembers(json, entry.valueStart, entry.valueEnd);
    if (!fields) return undefined;
    const prompt = fields.find((f) => f.key === 'prompt');
    const owner = prompt ? tupleOwner(json, prompt.valueStart, prompt.valueEnd, owners) : owners.ownerOf(entry.key);
    if (owner !== subject) continue;
    const outputs = fields.find((f) => f.key === 'outputs');
    if (files && outputs) {
      files.recordOutputs(subject, entry.key, JSON.parse(json.slice(outputs.valueStart, outputs.valueEnd)));
    }
    const parts = fields.map((f) => (f.key === 'status' ? redactedStatus(json, f) : memberText(json, f)));
    out.push(`${JSON.stringify(entry.key)}:{${parts.join(',')}}`);
  }
  return `{${out.join(',')}}`;
}

/**
 * `/upload/image` and `/upload/mask`: ComfyUI's answer names the file the upload became, which is
 * the caller's from now on. Passed on unchanged: the upload already happened.
 */
function recordUpload(json: string, subject: string, files: FileAccess | undefined): string {
  if (!files) return json;
  const key = uploadedFileKey(JSON.parse(json), 'input');
  if (key !== undefined) files.recordFile(subject, key);
  return json;
}

/** A history entry's `status` member with each `execution_error` message redacted. */
function redactedStatus(json: string, status: JsonMember): string {
  const text = json.slice(status.valueStart, status.valueEnd);
  if (!text.includes('"execution_error"')) return memberText(json, status);
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null) return memberText(json, status);
  const { messages } = parsed as { messages?: unknown };
  if (Array.isArray(messages)) {
    (parsed as { messages: unknown[] }).messages = (messages as unknown[]).map(redactErrorMessage);
  }
  return `"status":${JSON.stringify(parsed)}`;
}

/** One `[type, data]` history status message, an `execution_error` one redacted. */
function redactErrorMessage(message: unknown): unknown {
  if (!Array.isArray(message)) return message;
  const [type, data] = message as unknown[];
  return type === 'execution_error' && isJsonObject(data) ? [type, redactExecutionError(data)] : message;
}

/** The last argv seen and its redaction: ComfyUI's command line does not change while it runs. */
let lastArgv: { text: string; redacted: string } | undefined;

/**
 * The answer as ComfyUI wrote it, byte for byte, with only the value of `system.argv` replaced by its flag names:
 * the rest (RAM and VRAM figures that change on every call) is passed on without being parsed and written again.
 */
function filterSystemStats(json: string): string | undefined {
  const members = objectMembers(json);
  if (!members) return undefined;
  const system = members.find((m) => m.key === 'system');
  if (!system || json[system.valueStart] !== '{') return json;
  const systemMembers = objectMembers(json, system.valueStart, system.valueEnd);
  if (!systemMembers) return undefined;
  const argv = systemMembers.find((m) => m.key === 'argv');
  if (!argv) return json;
  const text = json.slice(argv.valueStart, argv.valueEnd);
  if (lastArgv?.text !== text) lastArgv = { text, redacted: JSON.stringify(redactArgv(JSON.parse(text))) };
  return json.slice(0, argv.valueStart) + lastArgv.redacted + json.slice(argv.valueEnd);
}

/**
 * The job list of newer ComfyUI builds (`GET /jobs`): the caller's own jobs, by the prompt ids the
 * gate recorded. An answer of unknown shape is refused rather than guessed.
 */
function filterJobs(json: string, subject: string, owners: PromptOwners): string | undefined {
  const members = objectMembers(json);
  if (!members) return undefined;
  const list = members.find((m) => m.key === 'jobs');
  if (!list) return undefined;
  const items = arrayItems(json, list.valueStart, list.valueEnd);
  if (!items) return undefined;
  const kept: string[] = [];
  for (const [start, end] of items) {
    const fields = objectMembers(json, start, end);
    const id = fields ? jobId(json, fields) : undefined;
    if (id !== undefined && owners.owns(subject, id)) kept.push(redactedJob(json, start, end));
  }
  return withMemberValue(json, members, list, `[${kept.join(',')}]`);
}

/**
 * One job of the jobs API with its `execution_error` (and, in a single job's answer, the error in
 * `execution_status`) redacted. Jobs without an error are passed on as ComfyUI wrote them.
 */
function redactedJob(json: string, start: number, end: number): string {
  const text = json.slice(start, end);
  if (!text.includes('"execution_error"')) return text;
  const job: unknown = JSON.parse(text);
  if (!isJsonObject(job)) return text;
  const error = job['execution_error'];
  if (isJsonObject(error)) job['execution_error'] = redactExecutionError(error);
  const status = job['execution_status'];
  if (isJsonObject(status) && Array.isArray(status['messages'])) {
    status['messages'] = (status['messages'] as unknown[]).map(redactErrorMessage);
  }
  return JSON.stringify(job);
}

function jobId(json: string, fields: readonly JsonMember[]): string | undefined {
  const field = fields.find((f) => f.key === 'id' || f.key === 'prompt_id');
  if (!field || json[field.valueStart] !== '"') return undefined;
  return JSON.parse(json.slice(field.valueStart, field.valueEnd)) as string;
}
