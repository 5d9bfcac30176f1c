import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverUpstream } from '../../server/upstream/upstreamDiscovery.js';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';

let fake: FakeComfy;

beforeAll(async () => {
  fake = await startFakeComfy();
});
afterAll(() => fake.close());

describe('upstream discovery', () => {
  it('uses the first candidate that answers /system_stats like ComfyUI', async () => {
    const result = await discoverUpstream(['http://127.0.0.1:1', fake.url]);
    expect(result).toEqual({ url: fake.url, found: true });
    expect(fake.requests.at(-1)).toMatchObject({ method: 'GET', rawUrl: '/system_stats' });
  });

  it('falls back to the first candidate when none answers', async () => {
    expect(await discoverUpstream(['http://127.0.0.1:1', 'http://127.0.0.1:2'])).toEqual({
      url: 'http://127.0.0.1:1',
      found: false,
    });
  });
});
