import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../server/pipeline/exchange.js';
import { OFFLINE_AUTH_BOUND_MS, sharedStateStep } from '../../server/redis/sharedStateStep.js';
import { parseChange } from '../../server/redis/changeFeed.js';

// The step reads nothing of the exchange: it answers for the gate's link to Redis alone.
const exchange = {} as Exchange;

describe('sharedStateStep: how long the keys in memory are trusted while Redis is away', () => {
  it('lets requests through while Redis answers', () => {
    expect(sharedStateStep({ offlineSince: null, label: 'redis://r:6379' })(exchange)).toBeUndefined();
  });

  it('lets requests through for 10 minutes of outage', () => {
    const since = Date.now() - OFFLINE_AUTH_BOUND_MS + 5_000;
    expect(OFFLINE_AUTH_BOUND_MS).toBe(600_000);
    expect(sharedStateStep({ offlineSince: since, label: 'redis://r:6379' })(exchange)).toBeUndefined();
  });

  it('refuses every request past the bound with 503 shared_state_unavailable naming Redis', () => {
    const since = Date.now() - OFFLINE_AUTH_BOUND_MS - 1_000;
    const refusal = sharedStateStep({ offlineSince: since, label: 'redis://r:6379' })(exchange);
    expect(refusal?.code).toBe('shared_state_unavailable');
    expect(refusal?.status).toBe(503);
    expect(refusal?.message).toMatch(/Redis at redis:\/\/r:6379\) has not answered for over 10 minutes/);
  });
});

describe('parseChange: the change feed message', () => {
  it('reads the header line and keeps the document text whole', () => {
    const text = '{"a":"b c\\nd"}';
    expect(parseChange(`keys 7 r1 c0ffee\n${text}`)).toEqual({
      document: 'keys',
      version: 7,
      from: 'r1',
      changeId: 'c0ffee',
      text,
    });
  });

  it('ignores a message it cannot read', () => {
    expect(parseChange('keys 7 r1')).toBeUndefined();
    expect(parseChange('keys x r1 c\n{}')).toBeUndefined();
  });
});
