import { describe, expect, it } from 'vitest';
import { writeDelayAfter } from '../../server/isolation/fileOwners.js';

describe('writeDelayAfter', () => {
  it('writes a small index within a second of a change', () => {
    expect(writeDelayAfter(0)).toBe(1_000);
    expect(writeDelayAfter(9)).toBe(1_000);
  });

  it('spaces the writes of a large index so that serialising it takes at most 1% of the event loop', () => {
    expect(writeDelayAfter(50)).toBe(5_000);
    expect(writeDelayAfter(250.5)).toBe(25_050);
  });

  it('never waits more than a minute, which bounds what a crash can lose', () => {
    expect(writeDelayAfter(1_300)).toBe(60_000);
    expect(writeDelayAfter(Number.POSITIVE_INFINITY)).toBe(60_000);
  });
});
