import type { ErrorBody } from './types.js';

/**
 * The dashboard's one way to talk to the gate: same origin, the session cookie, JSON both ways, and the gate's
 * error shape `{"error":{"code","message","fields"}}` turned into typed errors. A 401 means the session is gone:
 * the page goes to the login page and comes back here afterwards.
 */

export class ApiError extends Error {
  override readonly name: string = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For a 400: the problems by field path (`limits.perMinute`, `name`), as the gate sent them. */
    readonly fields: Readonly<Record<string, string>> = {}
  ) {
    super(message);
  }
}

/** The session ended or never was; the page is already on its way to the login page. */
export class UnauthorizedError extends ApiError {
  override readonly name = 'UnauthorizedError';
}

/** The gate did not answer at all (stopped, network down). */
export class NetworkError extends ApiError {
  override readonly name = 'NetworkError';

  constructor(message: string) {
    super(0, 'network', message);
  }
}

export const LOGIN_PATH = '/gate/login';

/**
 * Where the login page sends the browser back to: this dashboard, on the page it was on. `reason` is the gate's
 * short code for why the session stopped working (X-ComfyGate-Reason): the sign-in page explains it.
 */
export function loginUrl(hash: string = window.location.hash, reason?: string): string {
  const back = `/gate/${hash.startsWith('#/') ? hash : ''}`;
  const why = reason ? `&reason=${encodeURIComponent(reason)}` : '';
  return `${LOGIN_PATH}?next=${encodeURIComponent(back)}${why}`;
}

let redirecting = false;

function redirectToLogin(reason: string | null): void {
  if (redirecting) return;
  redirecting = true;
  window.location.assign(loginUrl(window.location.hash, reason ?? undefined));
}

export type Query = Record<string, string | number | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
}

export function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  // Changes made with the session cookie must be JSON: that is the gate's defence against cross-site forms.
  if (method !== 'GET' && method !== 'HEAD') headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? (method === 'GET' ? undefined : '{}') : JSON.stringify(options.body),
      credentials: 'same-origin',
      cache: 'no-store',
      // The gate checks Origin on changes; under a no-referrer policy a browser would send `Origin: null`.
      referrerPolicy: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new NetworkError('Cannot reach the gate. Is it still running?');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const data = parseJson(text);
  if (res.ok) return data as T;
  const { code, message, fields } = errorOf(data, res);
  if (res.status === 401) {
    redirectToLogin(res.headers.get('x-comfygate-reason'));
    throw new UnauthorizedError(401, code, message, fields);
  }
  throw new ApiError(res.status, code, message, fields);
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

interface ErrorParts {
  code: string;
  message: string;
  fields: Record<string, string>;
}

/** The gate's error body, checked field by field: an older gate or a proxy in between may answer otherwise. */
function errorOf(data: unknown, res: Response): ErrorParts {
  if (typeof data === 'object' && data !== null && 'error' in data) {
    const error = data.error;
    if (typeof error === 'object' && error !== null) {
      const { code, message, fields } = error as Partial<Record<keyof ErrorBody['error'], unknown>>;
      if (typeof code === 'string' && typeof message === 'string')
        return { code, message, fields: stringRecord(fields) };
    }
  }
  return {
    code: `http_${res.status}`,
    message: `The gate answered ${res.status} ${res.statusText}`.trim(),
    fields: {},
  };
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [name, problem] of Object.entries(value)) if (typeof problem === 'string') out[name] = problem;
  return out;
}

/** A readable sentence for any error thrown by `request`. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
