import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { BackendAnswer } from './backend.js';
import { sendAnswer, sendUnreachable, type HeaderMap } from './backendHttp.js';
import type { RouterScope } from './routerScope.js';

/** What each backend's copy of a streamed body may hold ahead of it: memory stays this times the backends. */
const COPY_BUFFER_BYTES = 256 * 1024;

/** A change every backend must see; the client gets the first one's answer. */
export async function sendToAll(
  scope: RouterScope,
  res: ServerResponse,
  method: string,
  raw: string,
  headers: HeaderMap,
  body: Buffer
): Promise<void> {
  await answerFirst(
    scope,
    res,
    scope.reachable().map((backend) => ({ backend, sent: backend.send(method, raw, headers, body, scope.timeoutMs) })),
    method,
    raw
  );
}

/**
 * An upload (or any other write of unknown size) for every backend, streamed: each backend gets its own copy
 * of the body as it arrives, and the client is read only as fast as the slowest backend takes it, so an upload
 * of any size costs a few buffers. A backend that fails or answers before the end drops out; the rest go on.
 */
export async function streamToAll(
  scope: RouterScope,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  raw: string,
  headers: HeaderMap
): Promise<void> {
  const targets = scope.reachable();
  if (targets.length === 0) {
    req.resume();
    return sendUnreachable(res, 'No ComfyUI backend is reachable.');
  }
  const length = req.headers['content-length'];
  const sendHeaders = length === undefined ? headers : { ...headers, 'content-length': length };
  const copies = targets.map(() => new PassThrough({ highWaterMark: COPY_BUFFER_BYTES }));
  tee(req, copies);
  const sends = targets.map((backend, index) => {
    const copy = copies[index] as PassThrough;
    const sent = backend.send(method, raw, sendHeaders, copy, scope.timeoutMs);
    // Answered (or failed) without taking the whole body: its copy must not hold the others back.
    void sent.then(
      () => copy.destroy(),
      () => copy.destroy()
    );
    return { backend, sent };
  });
  await answerFirst(scope, res, sends, method, raw);
}

async function answerFirst(
  scope: RouterScope,
  res: ServerResponse,
  sends: ReadonlyArray<{ backend: { url: string }; sent: Promise<BackendAnswer> }>,
  method: string,
  raw: string
): Promise<void> {
  const answers = await Promise.all(
    sends.map(({ backend, sent }) =>
      sent.catch((error: unknown) => {
        scope.logger.warn({ err: error, backend: backend.url }, `${method} ${raw} did not reach a backend`);
        return undefined;
      })
    )
  );
  const first = answers.find((answer) => answer !== undefined);
  if (first === undefined) return sendUnreachable(res, 'No ComfyUI backend is reachable.');
  sendAnswer(res, first);
}

/** Writes each chunk of `source` to every open copy, pausing the source while any copy is full. */
function tee(source: Readable, copies: readonly PassThrough[]): void {
  const open = new Set(copies);
  const full = new Set<PassThrough>();
  const unblock = (copy: PassThrough): void => {
    if (full.delete(copy) && full.size === 0) source.resume();
  };
  for (const copy of copies) {
    copy.on('drain', () => unblock(copy));
    copy.on('close', () => {
      open.delete(copy);
      unblock(copy);
    });
    // Its backend's failure is answered through its send; the copy only has to stop.
    copy.on('error', () => undefined);
  }
  source.on('data', (chunk: Buffer) => {
    for (const copy of open) {
      if (!copy.write(chunk)) full.add(copy);
    }
    if (full.size > 0) source.pause();
  });
  source.on('end', () => {
    for (const copy of open) copy.end();
  });
  source.on('close', () => {
    if (source.readableEnded) return;
    // The client went away part-way: no backend may take a cut-off upload as whole.
    for (const copy of open) copy.destroy(new Error('the client stopped sending the upload'));
  });
}
