import type { RequestLogLine } from '../api/types.js';

/** How many lines the Logs page keeps: the newest. */
export const LOG_KEEP = 500;

export const STATUS_CHOICES = ['', '2xx', '3xx', '4xx', '5xx'] as const;

/** The filters as chosen on the Logs page; an empty one does not filter. */
export interface LogFilters {
  key: string;
  status: string;
  /** Already trimmed. */
  path: string;
}

export function pathFilterError(path: string): string | undefined {
  return path && !path.startsWith('/') ? 'A path starts with /' : undefined;
}

/** The filters the gate is asked for: empty ones left out, a path that is not one ignored. */
export function logQuery(filters: LogFilters): {
  key: string | undefined;
  status: string | undefined;
  path: string | undefined;
} {
  return {
    key: filters.key || undefined,
    status: filters.status || undefined,
    path: pathFilterError(filters.path) ? undefined : filters.path || undefined,
  };
}

export function isFiltered(filters: LogFilters): boolean {
  const query = logQuery(filters);
  return query.key !== undefined || query.status !== undefined || query.path !== undefined;
}

/** Whether a streamed line passes the path filter (the stream itself filters key and status only). */
export function matchesPath(line: RequestLogLine, path: string | undefined): boolean {
  return !path || line.path.startsWith(path);
}

/** Newest first, each request once (a line can come from the history and from the stream). */
export function mergeLogLines(incoming: RequestLogLine[], current: RequestLogLine[]): RequestLogLine[] {
  const seen = new Set<string>();
  const out: RequestLogLine[] = [];
  for (const line of [...incoming, ...current]) {
    if (seen.has(line.requestId)) continue;
    seen.add(line.requestId);
    out.push(line);
  }
  out.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
  return out.slice(0, LOG_KEEP);
}

/** An older page below the lines shown, without the ones already there. */
export function appendOlder(current: RequestLogLine[], older: RequestLogLine[]): RequestLogLine[] {
  return [...current, ...older.filter((line) => !current.some((shown) => shown.requestId === line.requestId))];
}
