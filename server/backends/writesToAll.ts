import type { ServerResponse } from 'node:http';
import { sendAnswer, sendUnreachable, type HeaderMap } from './backendHttp.js';
import type { RouterScope } from './routerScope.js';

/** A change every backend must see; the client gets the first one's answer. */
export async function sendToAll(
  scope: RouterScope,
  res: ServerResponse,
  method: string,
  raw: string,
  headers: HeaderMap,
  body: Buffer
): Promise<void> {
  const answers = await Promise.all(
    scope.reachable().map((backend) =>
      backend.send(method, raw, headers, body, scope.timeoutMs).catch((error: unknown) => {
        scope.logger.warn({ err: error, backend: backend.url }, `${method} ${raw} did not reach a backend`);
        return undefined;
      })
    )
  );
  const first = answers.find((answer) => answer !== undefined);
  if (first === undefined) return sendUnreachable(res, 'No ComfyUI backend is reachable.');
  sendAnswer(res, first);
}
