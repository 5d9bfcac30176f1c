import { z } from 'zod';

/** One prompt ComfyUI runs or holds, as the gate reads it from `/queue`. */
export interface QueuedPrompt {
  id: string;
  /** The owner stamp the gate wrote into the prompt, when it has one. */
  owner: string | undefined;
  /** Its queue priority (ComfyUI runs lower first), when it is a number. */
  number: number | undefined;
}

export interface QueueSnapshot {
  running: readonly QueuedPrompt[];
  pending: readonly QueuedPrompt[];
}

/** Where a caller's next prompt stands: GET /gate/api/queue, and the `comfygate` member of an isolated caller's `/queue`. */
export const queuePlaceSchema = z.object({
  running: z.boolean().describe("One of the caller's prompts runs now"),
  position: z
    .number()
    .int()
    .min(1)
    .nullable()
    .describe("The caller's next waiting prompt's place among the waiting ones (1: next); null when none waits"),
  ahead: z
    .number()
    .int()
    .min(0)
    .nullable()
    .describe('Prompts that run before it, the running one included; null when none waits'),
  startsInSeconds: z
    .number()
    .int()
    .min(0)
    .nullable()
    .describe("Prompts ahead times a prompt's average GPU seconds; null when none waits or no average is known yet"),
});
export type QueuePlace = z.infer<typeof queuePlaceSchema>;

/** ComfyUI's queue is a heap on (number, prompt_id): the order it runs pending prompts in. */
function runsBefore(a: QueuedPrompt, b: QueuedPrompt): number {
  const na = a.number ?? 0;
  const nb = b.number ?? 0;
  if (na !== nb) return na - nb;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Where `subject`'s next pending prompt stands in ComfyUI's queue, and about when it starts. */
export function queuePlace(
  queue: QueueSnapshot,
  subject: string,
  averagePromptSeconds: number | undefined
): QueuePlace {
  const running = queue.running.some((item) => item.owner === subject);
  const order = [...queue.pending].sort(runsBefore);
  const index = order.findIndex((item) => item.owner === subject);
  if (index === -1) return { running, position: null, ahead: null, startsInSeconds: null };
  const ahead = queue.running.length + index;
  return {
    running,
    position: index + 1,
    ahead,
    startsInSeconds: averagePromptSeconds === undefined ? null : Math.round(ahead * averagePromptSeconds),
  };
}
