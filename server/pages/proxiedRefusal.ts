import type { IncomingMessage, ServerResponse } from 'node:http';
import { GateNodeError, GatePageError, type GateError } from '../errors.js';
import type { Exchange } from '../pipeline/exchange.js';
import { refusalAdvice } from './refusalAdvice.js';
import { REFUSAL_PAGE_CSP, renderRefusalPage } from './refusalPage.js';

/** A browser loading a page (not a script's fetch, not a WebSocket): it gets HTML a person can read. */
export function isPageNavigation(req: IncomingMessage): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    req.headers.upgrade === undefined &&
    (req.headers.accept ?? '').includes('text/html')
  );
}

/**
 * The refusal as ComfyUI would word an error, with the gate's `code` and `message` where API callers
 * read them: ComfyUI's frontends print `error.message: error.details` and walk `node_errors` (the
 * older one crashes without it), so both show why in their own dialog. `requestId` is the request log's id.
 * A refusal of some nodes is worded as ComfyUI's own failed validation, so the web UI outlines them.
 */
export function comfyShapedErrorBody(error: GateError, requestId: string): string {
  if (error instanceof GateNodeError) {
    return JSON.stringify({
      error: {
        type: 'prompt_outputs_failed_validation',
        message: 'Prompt outputs failed validation',
        details: error.message,
        extra_info: {},
        code: error.code,
        requestId,
      },
      node_errors: error.nodeErrors,
    });
  }
  return JSON.stringify({
    error: {
      code: error.code,
      message: error.message,
      requestId,
      type: error.code,
      details: refusalAdvice(error.code).todo,
      extra_info: {},
    },
    node_errors: {},
  });
}

/**
 * Answers a request for ComfyUI that the gate refused: an HTML page for a browser navigation, JSON in
 * ComfyUI's error shape for everything else. Same status and headers (Retry-After, WWW-Authenticate) either way.
 */
export function sendRefusal(
  exchange: Exchange,
  res: ServerResponse,
  error: GateError,
  extraHeaders?: Readonly<Record<string, string>>
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const req = exchange.req;
  const page = isPageNavigation(req);
  // A refusal that brings its own page (the locked-out sign-in page, which says until when) keeps it.
  const body = page
    ? error instanceof GatePageError
      ? error.html
      : renderRefusalPage(error, req.url ?? '/')
    : comfyShapedErrorBody(error, exchange.requestId);
  res.writeHead(error.status, {
    ...error.headers,
    ...extraHeaders,
    'content-type': page ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...(page ? { 'content-security-policy': REFUSAL_PAGE_CSP } : undefined),
  });
  res.end(body);
}
