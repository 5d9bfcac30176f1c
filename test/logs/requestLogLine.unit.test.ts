import { describe, expect, it } from 'vitest';
import { isoTime } from '../../server/logs/requestLogLine.js';

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
