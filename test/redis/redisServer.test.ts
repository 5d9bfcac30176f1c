// The test helper that runs a real redis-server: it starts, answers, survives a kill and a restart.
import { createClient } from '@redis/client';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../helpers/redisServer.js';

describe('redis-server test helper', () => {
  let redis: RedisServer | undefined;
  afterAll(() => redis?.stop());

  it('starts a real redis-server on a free loopback port, and again after a kill', async () => {
    redis = await startRedisServer();
    const client = createClient({ url: redis.url });
    await client.connect();
    expect(await client.set('greeting', 'hello')).toBe('OK');
    expect(await client.get('greeting')).toBe('hello');
    client.destroy();
    await redis.kill();
    await redis.restart();
    const again = createClient({ url: redis.url });
    await again.connect();
    // Nothing was persisted: a restarted Redis is empty.
    expect(await again.get('greeting')).toBeNull();
    again.destroy();
  });
});
