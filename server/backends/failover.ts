import type { Logger } from '../appLog/logger.js';
import type { Backend } from './backend.js';
import { parseJsonObject } from './backendHttp.js';
import type { MergedSockets } from './mergedSockets.js';
import { graphNeeds, pickBackend } from './placement.js';
import type { PromptPlace, PromptPlaces } from './promptPlaces.js';

export interface FailOverContext {
  places: PromptPlaces;
  backends: readonly Backend[];
  sockets: MergedSockets;
  logger: Logger;
  timeoutMs: number;
  onPlaced: (backend: Backend) => void;
}

/**
 * After a backend went down or came back: the prompts that waited on a lost backend go to another that can
 * run them (same prompt id and client id, so their client's frames and history still find them), or wait
 * for one; the prompt it was running is lost, and its client hears so in ComfyUI's `execution_error` shape.
 */
export async function failOver(context: FailOverContext): Promise<void> {
  const { places, backends } = context;
  for (const backend of backends) {
    for (const [promptId, place] of places.on(backend)) {
      if (!backend.reachable && place.state === 'running') {
        lost(context, promptId, place, `the ComfyUI backend ${backend.label} stopped while running it`);
        continue;
      }
      const waiting = place.state === 'placed' || place.state === 'pending';
      if (!waiting || place.body === undefined) continue;
      if (backend.reachable) {
        // Back after an outage: a prompt it still holds stays; one it forgot in a restart is queued anew.
        if (!place.stranded || backend.pendingIds.includes(promptId) || backend.runningIds.includes(promptId)) {
          place.stranded = false;
          continue;
        }
      }
      await requeue(context, promptId, place, backend);
    }
  }
}

async function requeue(context: FailOverContext, promptId: string, place: PromptPlace, from: Backend): Promise<void> {
  const body = place.body;
  if (body === undefined) return;
  const graph = parseJsonObject(body)?.['prompt'];
  const to = pickBackend(context.backends, graphNeeds(graph));
  if (to === undefined) {
    // Nowhere to go now: it waits for the next backend that answers.
    place.stranded = true;
    return;
  }
  try {
    const answer = await to.send('POST', '/prompt', { 'content-type': 'application/json' }, body, context.timeoutMs);
    if (answer.status !== 200) {
      lost(context, promptId, place, `no other ComfyUI backend accepted it after ${from.label} stopped`);
      return;
    }
  } catch {
    place.stranded = true;
    return;
  }
  place.backend = to;
  place.state = 'placed';
  place.stranded = false;
  context.onPlaced(to);
  context.logger.info({ promptId, from: from.url, to: to.url }, `queued a waiting prompt again on ${to.label}`);
}

function lost(context: FailOverContext, promptId: string, place: PromptPlace, why: string): void {
  place.state = 'done';
  place.body = undefined;
  context.logger.warn({ promptId, backend: place.backend.url }, `lost a prompt: ${why}`);
  if (place.clientId === null) return;
  const nodeType = place.node === null ? '' : (place.classes[place.node] ?? '');
  context.sockets.sendTo(place.clientId, {
    type: 'execution_error',
    data: {
      prompt_id: promptId,
      node_id: place.node ?? '',
      node_type: nodeType,
      executed: [],
      exception_message: `The prompt was lost: ${why}. Queue it again.`,
      exception_type: 'BackendUnreachable',
      traceback: [],
      current_inputs: {},
      current_outputs: [],
      timestamp: Date.now(),
    },
  });
  context.sockets.sendTo(place.clientId, { type: 'executing', data: { node: null, prompt_id: promptId } });
}
