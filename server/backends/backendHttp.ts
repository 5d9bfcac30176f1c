import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { BackendAnswer } from './backend.js';

/** Headers that belong to one connection, never passed on; content-length is recomputed for read bodies. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
  'expect',
  'host',
  'content-length',
]);

/** Bodies the router reads whole: prompts, queue edits, interrupts. */
export const MAX_BODY_BYTES = 1024 * 1024 * 1024;

export type HeaderMap = Record<string, string | string[] | undefined>;

/** The request's own headers for a backend: Host is the backend's, set by its client. */
export function requestHeaders(headers: IncomingHttpHeaders): HeaderMap {
  const out: HeaderMap = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

export class BodyTooLarge extends Error {}

/** The whole request body, refused past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge(`The request body is larger than ${limit} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A backend's whole answer, as it gave it. */
export function sendAnswer(res: ServerResponse, answer: BackendAnswer): void {
  const headers: HeaderMap = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (!HOP_BY_HOP.has(name)) headers[name] = value;
  }
  res.writeHead(answer.status, { ...headers, 'content-length': answer.body.length });
  res.end(answer.body);
}

/** A merged answer: JSON as ComfyUI sends it. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
}

/** No backend could take the request: ComfyUI's error shape, which its clients already show. */
export function sendUnreachable(res: ServerResponse, message: string): void {
  sendJson(res, 502, { error: { type: 'backend_unreachable', message, details: '', extra_info: {} }, node_errors: {} });
}

export function parseJsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
