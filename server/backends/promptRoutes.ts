import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isObject, type Backend } from './backend.js';
import {
  MAX_BODY_BYTES,
  parseJsonObject,
  readBody,
  sendAnswer,
  sendUnreachable,
  type HeaderMap,
} from './backendHttp.js';
import { sendToFirst } from './firstBackend.js';
import { graphNeeds, pickBackend } from './placement.js';
import type { RouterScope } from './routerScope.js';
import { sendToAll } from './writesToAll.js';

/** `POST /prompt`: placed on a backend that can run it, with the least work ahead; the next one if it fails. */
export async function placePrompt(
  scope: RouterScope,
  req: IncomingMessage,
  res: ServerResponse,
  raw: string,
  headers: HeaderMap
): Promise<void> {
  let body = await readBody(req, MAX_BODY_BYTES);
  const parsed = parseJsonObject(body);
  if (parsed === undefined) return sendToFirst(scope, res, 'POST', raw, headers, body);
  // The prompt's id is how the gate finds it again on whichever backend, so it always has one.
  if (typeof parsed['prompt_id'] !== 'string') {
    parsed['prompt_id'] = randomUUID();
    body = Buffer.from(JSON.stringify(parsed));
  }
  const promptId = parsed['prompt_id'] as string;
  const needs = graphNeeds(parsed['prompt']);
  const tried = new Set<Backend>();
  for (;;) {
    const backend = pickBackend(
      scope.backends.filter((candidate) => !tried.has(candidate)),
      needs
    );
    if (backend === undefined) return sendUnreachable(res, 'No ComfyUI backend is reachable.');
    tried.add(backend);
    let answer;
    try {
      answer = await backend.send('POST', raw, headers, body, scope.timeoutMs);
    } catch {
      void backend.check();
      continue;
    }
    if (answer.status === 200) {
      scope.places.set(promptId, {
        backend,
        clientId: typeof parsed['client_id'] === 'string' ? parsed['client_id'] : null,
        state: 'placed',
        stranded: false,
        body,
        node: null,
        classes: classesOf(parsed['prompt']),
      });
      scope.placed(backend);
    }
    return sendAnswer(res, answer);
  }
}

/** Everything about one prompt goes to the backend that has it; asked of all when the gate does not know. */
export async function toOwner(
  scope: RouterScope,
  res: ServerResponse,
  promptId: string,
  method: string,
  raw: string,
  headers: HeaderMap,
  body: Buffer | undefined
): Promise<void> {
  const owner = scope.places.get(promptId)?.backend ?? (await findOwner(scope, promptId));
  if (owner === undefined) return sendToFirst(scope, res, method, raw, headers, body);
  const answer = await owner.send(method, raw, headers, body, scope.timeoutMs);
  if (raw.includes('/history/')) {
    const json = parseJsonObject(answer.body);
    if (json !== undefined) scope.places.noteHistory(json, owner);
  }
  sendAnswer(res, answer);
}

/** `/interrupt` stops whatever runs: with a prompt id only where that prompt is, without one everywhere. */
export async function interrupt(
  scope: RouterScope,
  req: IncomingMessage,
  res: ServerResponse,
  raw: string,
  headers: HeaderMap
): Promise<void> {
  const body = await readBody(req, MAX_BODY_BYTES);
  const promptId = parseJsonObject(body)?.['prompt_id'];
  if (typeof promptId !== 'string') return sendToAll(scope, res, 'POST', raw, headers, body);
  const owner = scope.places.get(promptId)?.backend ?? (await findOwner(scope, promptId));
  if (owner === undefined) {
    res.writeHead(200, { 'content-length': 0 }).end();
    return;
  }
  sendAnswer(res, await owner.send('POST', raw, headers, body, scope.timeoutMs));
}

/** `POST /queue` and `/history` (deletes, clears): every backend; a deleted prompt is not queued again elsewhere. */
export async function editQueues(
  scope: RouterScope,
  req: IncomingMessage,
  res: ServerResponse,
  raw: string,
  headers: HeaderMap
): Promise<void> {
  const body = await readBody(req, MAX_BODY_BYTES);
  const ids = parseJsonObject(body)?.['delete'];
  for (const id of Array.isArray(ids) ? ids : []) {
    const place = typeof id === 'string' ? scope.places.get(id) : undefined;
    if (place !== undefined) {
      place.state = 'done';
      place.body = undefined;
    }
  }
  return sendToAll(scope, res, 'POST', raw, headers, body);
}

async function findOwner(scope: RouterScope, promptId: string): Promise<Backend | undefined> {
  const queued = scope.backends.find(
    (backend) => backend.runningIds.includes(promptId) || backend.pendingIds.includes(promptId)
  );
  if (queued !== undefined) return queued;
  const path = `/history/${encodeURIComponent(promptId)}`;
  const found = await Promise.all(
    scope.reachable().map(async (backend) => ((await backend.getJson(path))?.[promptId] ? backend : undefined))
  );
  const owner = found.find((backend) => backend !== undefined);
  if (owner !== undefined) scope.places.remember(promptId, owner);
  return owner;
}

function classesOf(prompt: unknown): Record<string, string> {
  const classes: Record<string, string> = {};
  if (!isObject(prompt)) return classes;
  for (const [id, node] of Object.entries(prompt)) {
    if (isObject(node) && typeof node['class_type'] === 'string') classes[id] = node['class_type'];
  }
  return classes;
}
