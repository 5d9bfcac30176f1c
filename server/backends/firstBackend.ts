import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { sendAnswer, sendUnreachable, type HeaderMap } from './backendHttp.js';
import type { RouterScope } from './routerScope.js';

/** A request no backend in particular owns (an unparsable prompt, an unknown prompt id): the first reachable one. */
export async function sendToFirst(
  scope: RouterScope,
  res: ServerResponse,
  method: string,
  raw: string,
  headers: HeaderMap,
  body: Buffer | undefined
): Promise<void> {
  const [first] = scope.reachable();
  if (first === undefined) return sendUnreachable(res, 'No ComfyUI backend is reachable.');
  sendAnswer(res, await first.send(method, raw, headers, body, scope.timeoutMs));
}

/** Reads of anything else (the frontend, user data, models): streamed from the first reachable backend. */
export async function streamFromFirst(
  scope: RouterScope,
  req: IncomingMessage,
  res: ServerResponse,
  raw: string,
  headers: HeaderMap
): Promise<void> {
  const [first] = scope.reachable();
  if (first === undefined) return sendUnreachable(res, 'No ComfyUI backend is reachable.');
  const answer = await first.pool.request({
    path: raw,
    method: req.method ?? 'GET',
    headers,
    headersTimeout: scope.timeoutMs,
    bodyTimeout: 0,
  });
  const out: HeaderMap = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (name !== 'connection' && name !== 'keep-alive' && name !== 'transfer-encoding') out[name] = value;
  }
  res.writeHead(answer.statusCode, out);
  await pipeline(answer.body, res);
}
