import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { call } from '../helpers/http.js';
import { rawExchange } from '../helpers/raw.js';
import { startTestGate, type TestGate } from '../helpers/testGate.js';

let fake: FakeComfy;
let gate: TestGate;
/** A request from a second address on the loopback network, to show other addresses are unaffected. */
async function fromOther(path: string, key: string): Promise<number> {
  const answer = await rawExchange(
    Number(new URL(gate.url).port),
    `GET ${path} HTTP/1.1\r\nHost: ${gate.host}\r\nX-API-Key: ${key}\r\nConnection: close\r\n\r\n`,
    '127.0.0.2'
  );
  return Number(answer.slice(9, 12));
}

beforeAll(async () => {
  fake = await startFakeComfy();
  gate = await startTestGate({ upstream: fake.url, mode: 'required' });
  await call(`${gate.url}/gate/api/settings`, {
    method: 'PATCH',
    headers: { 'x-api-key': gate.adminKey },
    json: { lockout: { maxFailures: 3, windowMinutes: 5, lockoutMinutes: 1 } },
  });
});

afterAll(async () => {
  await gate.stop();
  await fake.close();
});

describe('brute-force lockout', () => {
  it('locks an address after N wrong keys, even for a valid key; other addresses carry on', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': `wrong-${i}` } })).status).toBe(401);
    }
    const locked = await call<{ error: { code: string; message: string } }>(`${gate.url}/api/prompt`, {
      headers: { 'x-api-key': gate.adminKey },
    });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('locked_out');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(50);
    // The login page and the admin API refuse too: guessing there pays no better.
    const login = await call(`${gate.url}/gate/login`, { json: { key: gate.adminKey } });
    expect(login.status).toBe(429);

    expect(await fromOther('/api/prompt', gate.adminKey)).toBe(200);
  });
});
