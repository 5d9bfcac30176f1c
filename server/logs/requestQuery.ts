import { scanFiles, type LogPosition, type ScanResult } from './logQuery.js';
import { isRequestLogLine, type RequestLogLine } from './requestLogLine.js';

/** `404` exactly, or a class such as `4xx`. */
export type StatusFilter = { exact: number } | { classOf: number };

export const STATUS_FILTER = /^[1-5](?:\d\d|xx)$/i;

export function parseStatusFilter(value: string): StatusFilter | undefined {
  if (!STATUS_FILTER.test(value)) return undefined;
  const digits = value.toLowerCase();
  return digits.endsWith('xx') ? { classOf: Number(digits[0]) } : { exact: Number(digits) };
}

export function statusMatches(filter: StatusFilter, status: number): boolean {
  return 'exact' in filter ? status === filter.exact : Math.floor(status / 100) === filter.classOf;
}

/** `anonymous` selects the requests that came without a credential. */
export const ANONYMOUS_KEY = 'anonymous';

export interface RequestFilter {
  /** A key id, or `anonymous`. */
  key?: string;
  status?: StatusFilter;
  /** Prefix of the normalized path. */
  path?: string;
  /** Request start, epoch ms, inclusive. */
  since?: number;
  /** Request start, epoch ms, inclusive. */
  until?: number;
}

export interface RequestQuery extends RequestFilter {
  /** Default 100, at most 1000. */
  limit?: number;
  /** Cursor from a previous page's `next`. */
  before?: string;
}

export function matchesRequest(filter: RequestFilter, line: RequestLogLine): boolean {
  if (filter.key !== undefined && (line.keyId ?? ANONYMOUS_KEY) !== filter.key) return false;
  if (filter.status !== undefined && !statusMatches(filter.status, line.status)) return false;
  if (filter.path !== undefined && !line.path.startsWith(filter.path)) return false;
  if (filter.since !== undefined || filter.until !== undefined) {
    const time = Date.parse(line.time);
    if (filter.since !== undefined && time < filter.since) return false;
    if (filter.until !== undefined && time > filter.until) return false;
  }
  return true;
}

/**
 * Lines are written when requests finish, so finish times only grow through the file: once a line finished
 * before `since`, every older line started before it too.
 */
export function beforeSince(filter: RequestFilter, line: RequestLogLine): boolean {
  return filter.since !== undefined && Date.parse(line.time) + line.durationMs < filter.since;
}

/** A key id or path must appear verbatim (as JSON text) in a matching line: skip JSON.parse for the rest. */
function requestPrefilter(filter: RequestFilter): ((text: string) => boolean) | undefined {
  const needles: string[] = [];
  if (filter.key !== undefined && filter.key !== ANONYMOUS_KEY) needles.push(JSON.stringify(filter.key));
  if (filter.path !== undefined) needles.push(JSON.stringify(filter.path).slice(0, -1));
  if (needles.length === 0) return undefined;
  return (text) => needles.every((needle) => text.includes(needle));
}

/**
 * Searches the request log files only, newest first, from `before` (a position, already decoded). RequestLog.query
 * puts its in-memory ring in front of this; use that one from routes.
 */
export async function queryRequestFiles(
  dir: string,
  prefix: string,
  filter: RequestFilter,
  limit: number,
  before?: LogPosition
): Promise<ScanResult<RequestLogLine>> {
  return scanFiles<RequestLogLine>({
    dir,
    prefix,
    before,
    limit,
    prefilter: requestPrefilter(filter),
    accept: (value) => (isRequestLogLine(value) ? value : undefined),
    match: (line) => matchesRequest(filter, line),
    exhausted: (line) => beforeSince(filter, line),
  });
}
