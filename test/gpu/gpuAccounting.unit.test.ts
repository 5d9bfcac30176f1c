import { describe, expect, it } from 'vitest';
import { gpuAccounting, type GpuQuotaReached } from '../../server/gpu/gpuAccounting.js';
import { GpuLedger } from '../../server/gpu/gpuLedger.js';

function setup(limit: number | null) {
  const ledger = new GpuLedger();
  const booked: Array<[string, number]> = [];
  const counted: Array<[string, number]> = [];
  const reached: GpuQuotaReached[] = [];
  const account = gpuAccounting({
    ledger,
    usage: { addGpuSeconds: (keyId, seconds) => void booked.push([keyId, seconds]) },
    metrics: { countGpuSeconds: (keyId, seconds) => void counted.push([keyId, seconds]) },
    quotaOf: (subject) => (subject.startsWith('anon:') ? undefined : { id: subject, name: 'Ben', limit }),
    onQuotaReached: (key) => void reached.push(key),
  });
  return { ledger, booked, counted, reached, account };
}

describe('gpuAccounting: a measured prompt into usage, the metric and the ledger', () => {
  it('books a key under its id and every caller without a key under "anonymous"', () => {
    const { ledger, booked, counted, account } = setup(null);
    account({ promptId: 'p1', subject: 'key_b', seconds: 2.5, outcome: 'success' });
    account({ promptId: 'p2', subject: 'anon:10.0.0.7', seconds: 1, outcome: 'error' });
    account({ promptId: 'p3', subject: 'anon:10.0.0.8', seconds: 1.5, outcome: 'interrupted' });
    expect(booked).toEqual([
      ['key_b', 2.5],
      ['anonymous', 1],
      ['anonymous', 1.5],
    ]);
    expect(counted).toEqual(booked);
    // The quota of the anonymous tier is per address, so the ledger keeps them apart.
    expect([ledger.secondsToday('key_b'), ledger.secondsToday('anon:10.0.0.7')]).toEqual([2.5, 1]);
  });

  it('announces the prompt that takes a key to its quota, once', () => {
    const { reached, account } = setup(10);
    account({ promptId: 'p1', subject: 'key_b', seconds: 6, outcome: 'success' });
    expect(reached).toEqual([]);
    account({ promptId: 'p2', subject: 'key_b', seconds: 6, outcome: 'success' });
    account({ promptId: 'p3', subject: 'key_b', seconds: 6, outcome: 'success' });
    expect(reached).toEqual([{ id: 'key_b', name: 'Ben', limit: 10 }]);
  });

  it('announces nothing without a quota', () => {
    const { reached, account } = setup(null);
    account({ promptId: 'p1', subject: 'key_b', seconds: 600, outcome: 'success' });
    expect(reached).toEqual([]);
  });
});
