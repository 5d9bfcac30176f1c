import type { QueuedPrompt, QueueSnapshot } from '../fairness/queueSnapshot.js';
import { arrayItems, objectMembers } from '../pipeline/jsonMembers.js';
import type { Upstream } from '../upstream/upstream.js';
import { numberOfTuple, ownerOfTuple, promptIdOfTuple } from './ownerStamp.js';

export type { QueuedPrompt };

/** What ComfyUI has running and pending now; undefined when it did not answer. */
export async function fetchQueue(upstream: Upstream): Promise<QueueSnapshot | undefined> {
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
  return parseQueue(text);
}

/** A `/queue` answer's running and pending prompts (id, owner stamp, number); undefined when it is no queue. */
export function parseQueue(text: string): QueueSnapshot | undefined {
  const members = objectMembers(text);
  if (!members) return undefined;
  const list = (key: string): QueuedPrompt[] => {
    const member = members.find((m) => m.key === key);
    const items = member ? arrayItems(text, member.valueStart, member.valueEnd) : undefined;
    const prompts: QueuedPrompt[] = [];
    for (const [start, end] of items ?? []) {
      const id = promptIdOfTuple(text, start, end);
      if (id !== undefined) {
        prompts.push({ id, owner: ownerOfTuple(text, start, end), number: numberOfTuple(text, start, end) });
      }
    }
    return prompts;
  };
  return { running: list('queue_running'), pending: list('queue_pending') };
}

/** What ComfyUI still has running or pending, for reconciling the per-caller counts. */
export async function queuedPromptIds(upstream: Upstream): Promise<Set<string> | undefined> {
  const queue = await fetchQueue(upstream);
  // Unknown is not empty: without an answer the counts stay as they are.
  if (queue === undefined) return undefined;
  return new Set([...queue.running, ...queue.pending].map((p) => p.id));
}
