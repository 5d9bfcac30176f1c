import type { FinishedRequest } from '../observe/finishedRequest.js';
import type { RouteClass } from '../pipeline/routeClasses.js';
import { redactSecrets } from './redactSecrets.js';

/** One line of `requests-*.jsonl`, and one event of the live stream. */
export interface RequestLogLine {
  /** Request start, ISO 8601. */
  time: string;
  requestId: string;
  keyId: string | null;
  keyName: string | null;
  clientIp: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  upstreamMs: number | null;
  bytesIn: number;
  bytesOut: number;
  routeClass: RouteClass | null;
  kind: 'http' | 'ws';
  refusal?: string;
  promptId?: string;
}

function redactNullable(value: string | null): string | null {
  return value === null ? null : redactSecrets(value);
}

/** Tenths of a millisecond are all a reader can use; the raw float would be noise in every line. */
function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

let secondStart = Number.NaN;
let secondPrefix = '';

/**
 * `Date.toISOString()` of `ms`, with the date and time formatted once per second: a busy gate finishes a request
 * in nearly every millisecond, and only the milliseconds differ between them.
 */
export function isoTime(ms: number): string {
  const at = Math.trunc(Number.isFinite(ms) ? ms : Date.now());
  const second = Math.floor(at / 1000) * 1000;
  if (second !== secondStart) {
    // "YYYY-MM-DDTHH:MM:SS." (years 0 to 9999; toISOString writes others with a sign and six digits).
    const iso = new Date(second).toISOString();
    if (iso.length !== 24) return new Date(at).toISOString();
    secondPrefix = iso.slice(0, 20);
    secondStart = second;
  }
  const milli = at - second;
  return `${secondPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

export function toLogLine(finished: FinishedRequest): RequestLogLine {
  const line: RequestLogLine = {
    time: isoTime(finished.time),
    requestId: redactSecrets(finished.requestId),
    keyId: redactNullable(finished.keyId),
    keyName: redactNullable(finished.keyName),
    clientIp: redactSecrets(finished.clientIp),
    method: redactSecrets(finished.method),
    path: redactSecrets(finished.path),
    status: finished.status,
    durationMs: roundMs(finished.durationMs),
    upstreamMs: finished.upstreamMs === null ? null : roundMs(finished.upstreamMs),
    bytesIn: finished.bytesIn,
    bytesOut: finished.bytesOut,
    routeClass: finished.routeClass,
    kind: finished.kind,
  };
  if (finished.refusal !== undefined) line.refusal = redactSecrets(finished.refusal);
  if (finished.promptId !== undefined) line.promptId = redactSecrets(finished.promptId);
  return line;
}

/** Characters JSON.stringify escapes in a string: quote, backslash, controls, and (lone) surrogates. */
// eslint-disable-next-line no-control-regex -- the control characters are exactly what must be found
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

function jsonNullableString(value: string | null): string {
  return value === null ? 'null' : jsonString(value);
}

function jsonNumber(value: number): string {
  return Number.isFinite(value) ? `${value}` : 'null';
}

/**
 * `JSON.stringify(line)` and a line break, built for the one fixed shape of a request line: the generic serializer
 * walks the object's keys and checks every value's type on each of the gate's requests.
 */
export function serializeRequestLogLine(line: RequestLogLine): string {
  let text =
    `{"time":${jsonString(line.time)},"requestId":${jsonString(line.requestId)},` +
    `"keyId":${jsonNullableString(line.keyId)},"keyName":${jsonNullableString(line.keyName)},` +
    `"clientIp":${jsonString(line.clientIp)},"method":${jsonString(line.method)},"path":${jsonString(line.path)},` +
    `"status":${jsonNumber(line.status)},"durationMs":${jsonNumber(line.durationMs)},` +
    `"upstreamMs":${line.upstreamMs === null ? 'null' : jsonNumber(line.upstreamMs)},` +
    `"bytesIn":${jsonNumber(line.bytesIn)},"bytesOut":${jsonNumber(line.bytesOut)},` +
    // Route class and kind are names from closed sets, with nothing to escape.
    `"routeClass":${line.routeClass === null ? 'null' : `"${line.routeClass}"`},"kind":"${line.kind}"`;
  if (line.refusal !== undefined) text += `,"refusal":${jsonString(line.refusal)}`;
  if (line.promptId !== undefined) text += `,"promptId":${jsonString(line.promptId)}`;
  return `${text}}\n`;
}

export function isRequestLogLine(value: unknown): value is RequestLogLine {
  if (typeof value !== 'object' || value === null) return false;
  const line = value as Partial<Record<keyof RequestLogLine, unknown>>;
  return (
    typeof line.time === 'string' &&
    typeof line.path === 'string' &&
    typeof line.status === 'number' &&
    typeof line.durationMs === 'number' &&
    (typeof line.keyId === 'string' || line.keyId === null)
  );
}
