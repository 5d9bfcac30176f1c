// The Logs page's filters and its list of lines (renderer/src/lib/logFilters.ts).
import { describe, expect, it } from 'vitest';
import type { RequestLogLine } from '../../renderer/src/api/types.js';
import {
  appendOlder,
  isFiltered,
  LOG_KEEP,
  logQuery,
  matchesPath,
  mergeLogLines,
  pathFilterError,
} from '../../renderer/src/lib/logFilters.js';

function line(requestId: string, second: number, path = '/prompt'): RequestLogLine {
  return {
    time: new Date(Date.UTC(2026, 2, 1, 12, 0, 0) + second * 1000).toISOString(),
    requestId,
    keyId: null,
    keyName: null,
    clientIp: '127.0.0.1',
    method: 'GET',
    path,
    status: 200,
    durationMs: 1,
    upstreamMs: 1,
    bytesIn: 0,
    bytesOut: 0,
    routeClass: 'read',
    kind: 'http',
  };
}

const ids = (lines: RequestLogLine[]) => lines.map((l) => l.requestId);

describe('the filters', () => {
  it('asks the gate for no filter where a choice is empty', () => {
    expect(logQuery({ key: '', status: '', path: '' })).toEqual({
      key: undefined,
      status: undefined,
      path: undefined,
    });
    expect(logQuery({ key: 'k1', status: '4xx', path: '/api' })).toEqual({ key: 'k1', status: '4xx', path: '/api' });
  });

  it('says a path starts with / and filters by none until it does', () => {
    expect(pathFilterError('api/prompt')).toBe('A path starts with /');
    expect(pathFilterError('/api')).toBeUndefined();
    expect(pathFilterError('')).toBeUndefined();
    expect(logQuery({ key: 'anonymous', status: '', path: 'api' })).toEqual({
      key: 'anonymous',
      status: undefined,
      path: undefined,
    });
  });

  it('counts as filtered only with a filter that applies', () => {
    expect(isFiltered({ key: '', status: '', path: '' })).toBe(false);
    expect(isFiltered({ key: '', status: '', path: 'api' })).toBe(false);
    expect(isFiltered({ key: '', status: '', path: '/api' })).toBe(true);
    expect(isFiltered({ key: '', status: '5xx', path: '' })).toBe(true);
    expect(isFiltered({ key: 'anonymous', status: '', path: '' })).toBe(true);
  });

  it('keeps a streamed line whose path starts with the filter', () => {
    expect(matchesPath(line('a', 1, '/api/prompt'), '/api')).toBe(true);
    expect(matchesPath(line('a', 1, '/view'), '/api')).toBe(false);
    expect(matchesPath(line('a', 1, '/view'), undefined)).toBe(true);
  });
});

describe('the lines shown', () => {
  it('merges newest first, each request once', () => {
    const merged = mergeLogLines([line('c', 3), line('a', 1)], [line('b', 2), line('a', 1)]);
    expect(ids(merged)).toEqual(['c', 'b', 'a']);
  });

  it(`keeps the newest ${LOG_KEEP}`, () => {
    const many = Array.from({ length: LOG_KEEP + 5 }, (_, i) => line(`r${i}`, i));
    const merged = mergeLogLines(many, []);
    expect(merged).toHaveLength(LOG_KEEP);
    expect(merged[0]?.requestId).toBe(`r${LOG_KEEP + 4}`);
    expect(merged.at(-1)?.requestId).toBe('r5');
  });

  it('puts an older page below, without the lines already shown', () => {
    const shown = [line('c', 3), line('b', 2)];
    expect(ids(appendOlder(shown, [line('b', 2), line('a', 1)]))).toEqual(['c', 'b', 'a']);
  });
});
