import { redactExecutionError } from '../isolation/redactErrors.js';
import type { PromptOwners } from '../isolation/promptOwners.js';
import { isJsonObject } from '../pipeline/jsonMembers.js';

/** What an isolated socket remembers between frames. */
export interface IsolatedSocketState {
  /** The caller's prompt runs now: frames that name no prompt (legacy previews, node text) are theirs. */
  ownPromptRunning: boolean;
}

const PROMPT_ID = Buffer.from('"prompt_id"');
const DISPLAY_COMPONENT = Buffer.from('"display_component"');
const LOGS = Buffer.from('"logs"');
const FINISH_TYPES = new Set(['execution_success', 'execution_error', 'execution_interrupted']);
/** Binary event 4 (PREVIEW_IMAGE_WITH_METADATA) is the only binary frame that names its prompt. */
const PREVIEW_WITH_METADATA = 4;

/**
 * One ComfyUI frame as an isolated caller gets it: unchanged, rewritten (their own errors without
 * server paths) or null (another caller's prompt). Most frames are progress, so a byte search
 * decides before any JSON is parsed; frames ComfyUI broadcasts to every socket without naming a
 * prompt pass only while the caller's own prompt is running (ComfyUI runs one prompt at a time).
 * The server's terminal log (`logs`) tells of everyone's work and never passes, even to a client id
 * an operator subscribed.
 */
export function isolatedFrame(
  data: Buffer,
  isBinary: boolean,
  subject: string,
  owners: PromptOwners,
  state: IsolatedSocketState
): Buffer | null {
  if (isBinary) return binaryFrame(data, subject, owners, state);
  if (data.indexOf(LOGS) !== -1 && typeOf(data) === 'logs') return null;
  if (data.indexOf(PROMPT_ID) === -1) {
    if (data.indexOf(DISPLAY_COMPONENT) !== -1 && !state.ownPromptRunning && typeOf(data) === 'display_component')
      return null;
    return data;
  }
  const message = parseMessage(data);
  if (!message) return null;
  const payload = message['data'];
  if (!isJsonObject(payload)) return data;
  const id = payload['prompt_id'];
  if (typeof id !== 'string') return data;
  if (!owners.owns(subject, id)) {
    state.ownPromptRunning = false;
    return null;
  }
  const type = message['type'];
  const ended =
    (typeof type === 'string' && FINISH_TYPES.has(type)) || (type === 'executing' && payload['node'] === null);
  state.ownPromptRunning = !ended;
  if (type === 'execution_error') {
    return Buffer.from(JSON.stringify({ ...message, data: redactExecutionError(payload) }), 'utf8');
  }
  return data;
}

function binaryFrame(data: Buffer, subject: string, owners: PromptOwners, state: IsolatedSocketState): Buffer | null {
  if (data.length >= 8 && data.readUInt32BE(0) === PREVIEW_WITH_METADATA) {
    const end = 8 + data.readUInt32BE(4);
    if (end > data.length) return null;
    const metadata = parseMessage(data.subarray(8, end));
    const id = metadata?.['prompt_id'];
    return typeof id === 'string' && owners.owns(subject, id) ? data : null;
  }
  return state.ownPromptRunning ? data : null;
}

function typeOf(data: Buffer): unknown {
  return parseMessage(data)?.['type'];
}

function parseMessage(data: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(data.toString('utf8'));
    return isJsonObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
