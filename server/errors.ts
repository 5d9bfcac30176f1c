import type { ServerResponse } from 'node:http';

/** Every error the gate itself answers with. The status comes from the code, never from the caller. */
export const ERROR_CODES = [
  'bad_request',
  'login_required',
  'unauthorized',
  'forbidden',
  'forbidden_origin',
  'forbidden_scope',
  'not_your_prompt',
  'not_your_file',
  'conflict',
  'payload_too_large',
  'generation_cap',
  'rate_limit_minute',
  'rate_limit_hour',
  'rate_limit_prompts_day',
  'queue_limit',
  'gpu_quota',
  'websocket_limit',
  'locked_out',
  'not_found',
  'not_available',
  'method_not_allowed',
  'upstream_unreachable',
  'upstream_unexpected',
  'upstream_timeout',
  'shutting_down',
  'paused',
  'data_file_corrupt',
  'shared_state_unavailable',
  'server_busy',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function statusFor(code: ErrorCode): number {
  switch (code) {
    case 'login_required':
      return 302;
    case 'bad_request':
    case 'generation_cap':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
    case 'forbidden_origin':
    case 'forbidden_scope':
    case 'not_your_prompt':
    case 'not_your_file':
      return 403;
    case 'conflict':
      return 409;
    case 'payload_too_large':
      return 413;
    case 'rate_limit_minute':
    case 'rate_limit_hour':
    case 'rate_limit_prompts_day':
    case 'queue_limit':
    case 'gpu_quota':
    case 'websocket_limit':
    case 'locked_out':
      return 429;
    case 'not_found':
    case 'not_available':
      return 404;
    case 'method_not_allowed':
      return 405;
    case 'upstream_unreachable':
    case 'upstream_unexpected':
      return 502;
    case 'shutting_down':
    case 'paused':
    case 'data_file_corrupt':
    case 'shared_state_unavailable':
    case 'server_busy':
      return 503;
    case 'upstream_timeout':
      return 504;
    case 'internal':
      return 500;
  }
}

/** The refusals that are limits at work (rate, queue, sockets, lockout): the ones metrics count by code. */
export function isLimitCode(code: ErrorCode): boolean {
  return statusFor(code) === 429;
}

export class GateError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Headers the answer needs (WWW-Authenticate, Location, Retry-After). */
    readonly headers?: Readonly<Record<string, string>>
  ) {
    super(message);
    this.name = 'GateError';
    this.status = statusFor(code);
  }
}

/** A refusal a browser navigating should read as a page (the locked-out sign-in page) rather than as JSON. */
export class GatePageError extends GateError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly html: string,
    headers?: Readonly<Record<string, string>>
  ) {
    super(code, message, headers);
    this.name = 'GatePageError';
  }
}

/** One input's problem as ComfyUI words it in `node_errors` (comfyui-protocol.md §6.1). */
export interface ComfyInputError {
  type: string;
  message: string;
  details: string;
  extra_info: { input_name: string; received_value: unknown };
}

/** A node's entry in ComfyUI's `node_errors`: its frontends outline the node and list the errors. */
export interface ComfyNodeError {
  errors: ComfyInputError[];
  dependent_outputs: string[];
  class_type: string;
}

/**
 * A prompt refused for what some of its nodes hold: answered as ComfyUI answers a prompt that fails
 * validation, so its web UI outlines each node. `message` sums up the nodes' details.
 */
export class GateNodeError extends GateError {
  constructor(
    code: ErrorCode,
    message: string,
    /** By node id. */
    readonly nodeErrors: Readonly<Record<string, ComfyNodeError>>
  ) {
    super(code, message);
    this.name = 'GateNodeError';
  }
}

/** Input that failed validation: besides the message, the problems by field path for a form to show beside each field. */
export class GateInputError extends GateError {
  constructor(
    message: string,
    /** Field path (`limits.perMinute`, `body` for the whole input) to the problem with it. */
    readonly fields: Readonly<Record<string, string>>
  ) {
    super('bad_request', message);
    this.name = 'GateInputError';
  }
}

/** The gate's one JSON error shape, as clients read it. */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    /** The id the request log shows for this request, to quote when asking an admin about it. */
    requestId?: string;
    /** For `bad_request`: the problems by field path, so a client never re-parses `message`. */
    fields?: Readonly<Record<string, string>>;
  };
}

export function errorBody(
  code: ErrorCode,
  message: string,
  extra?: Omit<ErrorBody['error'], 'code' | 'message'>
): string {
  const body: ErrorBody = { error: { code, message, ...extra } };
  return JSON.stringify(body);
}

/** The JSON body for a GateError, with the request's id when it has one and its field problems when it has some. */
export function errorBodyOf(error: GateError, requestId?: string): string {
  return errorBody(error.code, error.message, {
    requestId,
    fields: error instanceof GateInputError ? error.fields : undefined,
  });
}

/** Writes the gate's one JSON error shape on a plain `http` response (the proxy path has no express). */
export function sendError(
  res: ServerResponse,
  error: GateError,
  extraHeaders?: Record<string, string>,
  requestId?: string
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const page = error instanceof GatePageError ? error.html : undefined;
  const body = page ?? errorBodyOf(error, requestId);
  res.writeHead(error.status, {
    ...error.headers,
    ...extraHeaders,
    'content-type': page === undefined ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

/** Answers on a raw socket (refused WebSocket upgrades, unparsable requests): cheap, then closed. */
export function rawErrorResponse(
  error: GateError,
  extraHeaders: Record<string, string> = {},
  requestId?: string
): string {
  const body = errorBodyOf(error, requestId);
  let head = `HTTP/1.1 ${error.status} ${reasonPhrase(error.status)}\r\n`;
  for (const [name, value] of Object.entries({ ...error.headers, ...extraHeaders })) head += `${name}: ${value}\r\n`;
  head +=
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Cache-Control: no-store\r\nConnection: close\r\n\r\n';
  return head + body;
}

const REASONS: Record<number, string> = {
  302: 'Found',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Error';
}

/** A flat [name, value, …] header list (as the limiters build them) as an object for GateError. */
export function headerObject(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
