import { describe, expect, it } from 'vitest';
import { GpuLedger, RECENT_PROMPTS } from '../../server/gpu/gpuLedger.js';

describe('GpuLedger: seconds today per subject, and the recent average', () => {
  it('sums a subject’s prompts of the day and starts again after local midnight', () => {
    let now = new Date(2025, 5, 15, 23, 0, 0).getTime();
    const ledger = new GpuLedger(() => now);
    expect(ledger.add('key_a', 2)).toBe(2);
    expect(ledger.add('key_a', 3.5)).toBe(5.5);
    ledger.add('key_b', 1);
    expect([ledger.secondsToday('key_a'), ledger.secondsToday('key_b'), ledger.secondsToday('x')]).toEqual([5.5, 1, 0]);
    now = new Date(2025, 5, 16, 0, 0, 1).getTime();
    expect(ledger.secondsToday('key_a')).toBe(0);
    expect(ledger.add('key_a', 1)).toBe(1);
  });

  it('counts seeded seconds today but not in the average', () => {
    const ledger = new GpuLedger();
    ledger.seed('key_a', 100);
    expect(ledger.averagePromptSeconds()).toBeUndefined();
    ledger.add('key_a', 4);
    ledger.add('key_b', 2);
    expect(ledger.secondsToday('key_a')).toBe(104);
    expect(ledger.averagePromptSeconds()).toBe(3);
  });

  it(`averages the last ${RECENT_PROMPTS} prompts only`, () => {
    const ledger = new GpuLedger();
    for (let i = 0; i < RECENT_PROMPTS; i++) ledger.add('key_a', 100);
    for (let i = 0; i < RECENT_PROMPTS; i++) ledger.add('key_a', 2);
    expect(ledger.averagePromptSeconds()).toBe(2);
  });
});
