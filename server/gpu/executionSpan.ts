import { z } from 'zod';
import { OWNER_FIELD } from '../isolation/ownerStamp.js';

export type ExecutionOutcome = 'success' | 'error' | 'interrupted';

/** How long ComfyUI executed one prompt, by its own clock, and who the gate stamped as its owner. */
export interface ExecutionSpan {
  seconds: number;
  outcome: ExecutionOutcome;
  /** The owner stamp in the entry's `extra_data`; undefined for a prompt that did not come through the gate. */
  owner: string | undefined;
}

const ENDINGS: Readonly<Record<string, ExecutionOutcome>> = {
  execution_success: 'success',
  execution_error: 'error',
  execution_interrupted: 'interrupted',
};

/** Only what the span needs; custom nodes may add messages of any shape, which are skipped, not refused. */
const entrySchema = z.object({
  prompt: z.array(z.unknown()).optional(),
  status: z.object({ status_str: z.string().optional(), messages: z.array(z.unknown()) }),
});
const timedMessageSchema = z.tuple([z.string(), z.object({ timestamp: z.number().finite() })]).rest(z.unknown());
const extraDataSchema = z.object({ [OWNER_FIELD]: z.string() });

/**
 * The span of a `GET /history/{prompt_id}` answer (comfyui-protocol.md §6.3): `execution_start` to the
 * message that ended the prompt. An entry whose end carries no timestamp (ComfyUI's "ExecutionBlocked"
 * error) ends at its latest timestamp. Undefined while the answer holds no finished entry for `promptId`.
 */
export function executionSpan(answer: unknown, promptId: string): ExecutionSpan | undefined {
  if (typeof answer !== 'object' || answer === null || !Object.hasOwn(answer, promptId)) return undefined;
  const entry = entrySchema.safeParse((answer as Record<string, unknown>)[promptId]);
  if (!entry.success) return undefined;
  let start: number | undefined;
  let end: number | undefined;
  let latest: number | undefined;
  let outcome: ExecutionOutcome | undefined;
  for (const raw of entry.data.status.messages) {
    if (Array.isArray(raw) && typeof raw[0] === 'string' && ENDINGS[raw[0]] !== undefined) outcome = ENDINGS[raw[0]];
    const message = timedMessageSchema.safeParse(raw);
    if (!message.success) continue;
    const [type, { timestamp }] = message.data;
    if (type === 'execution_start') start ??= timestamp;
    else if (ENDINGS[type] !== undefined) end = timestamp;
    if (latest === undefined || timestamp > latest) latest = timestamp;
  }
  outcome ??= entry.data.status.status_str === 'success' ? 'success' : 'error';
  const stop = end ?? latest;
  const seconds = start !== undefined && stop !== undefined && stop > start ? (stop - start) / 1000 : 0;
  return { seconds, outcome, owner: ownerOf(entry.data.prompt) };
}

function ownerOf(prompt: readonly unknown[] | undefined): string | undefined {
  const extra = extraDataSchema.safeParse(prompt?.[3]);
  return extra.success ? extra.data[OWNER_FIELD] : undefined;
}
