import { describe, expect, it } from 'vitest';
import { isoTime, serializeRequestLogLine, type RequestLogLine } from '../../server/logs/requestLogLine.js';

describe('isoTime', () => {
  it('writes what toISOString writes, for times in one second, across seconds, days and years', () => {
    const base = Date.parse('2026-12-31T23:59:58.000Z');
    const times = [
      ...Array.from({ length: 2_500 }, (_, i) => base + i),
      base + 0.9,
      base - 0.5,
      Date.parse('2026-12-06T07:30:00.007Z'),
      Date.parse('2026-12-06T07:30:00.070Z'),
      Date.parse('1969-12-31T23:59:59.999Z'),
      -1.5,
      0,
      Date.parse('+010000-01-01T00:00:00.123Z'),
    ];
    for (const time of times) expect(isoTime(time), String(time)).toBe(new Date(time).toISOString());
  });

  it('writes the current time for a time that is not a number', () => {
    const before = Date.now();
    const written = Date.parse(isoTime(Number.NaN));
    expect(written).toBeGreaterThanOrEqual(before);
    expect(written).toBeLessThanOrEqual(Date.now());
  });
});

describe('serializeRequestLogLine', () => {
  const base: RequestLogLine = {
    time: '2026-12-06T07:30:00.007Z',
    requestId: 'req-1',
    keyId: 'key_1',
    keyName: 'Teammate 1',
    clientIp: '192.168.1.20',
    method: 'GET',
    path: '/prompt',
    status: 200,
    durationMs: 1.2,
    upstreamMs: 0.9,
    bytesIn: 0,
    bytesOut: 512,
    routeClass: 'read',
    kind: 'http',
  };

  it('writes exactly what JSON.stringify writes, one line per record', () => {
    const lines: RequestLogLine[] = [
      base,
      { ...base, keyId: null, keyName: null, upstreamMs: null, routeClass: null, kind: 'ws', status: 101 },
      { ...base, refusal: 'rate_limit_minute' },
      { ...base, promptId: 'p-1' },
      { ...base, refusal: 'scope', promptId: 'p-2' },
      { ...base, keyName: 'Ünïcödé "quoted" \\ back\nslash\t\u0001 😀', path: '/a\ud800b\udc00' },
      { ...base, durationMs: Number.NaN, upstreamMs: Number.POSITIVE_INFINITY, bytesOut: 1e21, bytesIn: -0 },
    ];
    for (const line of lines) expect(serializeRequestLogLine(line)).toBe(`${JSON.stringify(line)}\n`);
  });
});
