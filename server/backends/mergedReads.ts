import type { ServerResponse } from 'node:http';
import type { Backend } from './backend.js';
import { parseJsonObject, sendAnswer, sendJson, sendUnreachable, type HeaderMap } from './backendHttp.js';
import type { RouterScope } from './routerScope.js';

/** A read spanning every backend: their JSON answers merged; the first one's error when none answered 200. */
export async function mergedRead(
  scope: RouterScope,
  res: ServerResponse,
  raw: string,
  headers: HeaderMap,
  merge: (answers: Array<Record<string, unknown>>) => unknown,
  learn?: (answer: Record<string, unknown>, backend: Backend) => void
): Promise<void> {
  const answers = await Promise.all(
    scope.reachable().map((backend) =>
      backend.send('GET', raw, headers, undefined, scope.timeoutMs).then(
        (answer) => ({ backend, answer }),
        () => undefined
      )
    )
  );
  const ok: Array<Record<string, unknown>> = [];
  for (const result of answers) {
    if (result === undefined || result.answer.status !== 200) continue;
    const json = parseJsonObject(result.answer.body);
    if (json === undefined) continue;
    ok.push(json);
    learn?.(json, result.backend);
  }
  if (ok.length > 0) return sendJson(res, 200, merge(ok));
  const failed = answers.find((result) => result !== undefined);
  if (failed !== undefined) return sendAnswer(res, failed.answer);
  sendUnreachable(res, 'No ComfyUI backend is reachable.');
}

/** `/view` and one node class: the backend known to have it, else each in turn until one has it. */
export async function firstFound(
  scope: RouterScope,
  res: ServerResponse,
  raw: string,
  headers: HeaderMap
): Promise<void> {
  const query = new URL(raw, 'http://backends').searchParams;
  const known = scope.places.fileOwner(
    query.get('type') ?? 'output',
    query.get('subfolder') ?? '',
    query.get('filename') ?? ''
  );
  const order = [...(known?.reachable ? [known] : []), ...scope.reachable().filter((backend) => backend !== known)];
  let last;
  for (const backend of order) {
    try {
      last = await backend.send('GET', raw, headers, undefined, scope.timeoutMs);
    } catch {
      continue;
    }
    const empty = last.status === 200 && raw.includes('/object_info/') && last.body.toString() === '{}';
    if (last.status !== 404 && !empty) return sendAnswer(res, last);
  }
  if (last !== undefined) return sendAnswer(res, last);
  sendUnreachable(res, 'No ComfyUI backend is reachable.');
}
