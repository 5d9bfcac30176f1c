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

/** Where a caller's next prompt stands; the `comfygate` member of an isolated caller's `/queue`. */
export interface QueuePlace {
  /** One of the caller's prompts runs now. */
  running: boolean;
  /** 1 for the next to run; null when the caller has nothing waiting. */
  position: number | null;
  /** Prompts that run before it, the running ones included; null when nothing waits. */
  ahead: number | null;
  /** Prompts ahead times the average prompt's GPU seconds; null when nothing waits or no average is known. */
  startsInSeconds: number | null;
}

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
