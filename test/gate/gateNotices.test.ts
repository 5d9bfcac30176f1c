import { describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';
import { eventually } from '../helpers/testGate.js';

const { gate } = withGateAndComfy({ gate: { mode: 'required' } });

async function newKey(body: Record<string, unknown>): Promise<{ key: string; id: string }> {
  const res = await call<{ key: string; id: string }>(`${gate.url}/gate/api/keys`, {
    method: 'POST',
    headers: { 'x-api-key': gate.adminKey },
    json: { name: 'notice test', ...body },
  });
  expect(res.status).toBe(201);
  return res.body;
}

describe('the events the desktop app turns into notifications', () => {
  it('a key used for the first time emits firstUse once, naming the key', async () => {
    const { key, id } = await newKey({ name: 'Ana' });
    const seen: Array<{ id: string; name: string }> = [];
    gate.events.on('firstUse', (used) => seen.push(used));
    for (let i = 0; i < 3; i++) {
      expect((await call(`${gate.url}/api/queue`, { headers: { 'x-api-key': key } })).status).toBe(200);
    }
    expect(seen).toEqual([{ id, name: 'Ana' }]);
  });

  it('a key that was used before (lastUsedAt on disk) never emits firstUse', async () => {
    const seen: string[] = [];
    gate.events.on('firstUse', (used) => seen.push(used.name));
    // The admin key of the first start was used by every admin call above; its use is flushed or pending.
    expect((await call(`${gate.url}/api/queue`, { headers: { 'x-api-key': gate.adminKey } })).status).toBe(200);
    expect(seen).toEqual([]);
  });

  it('a key reaching its prompts-per-day quota emits quota once, with the limit', async () => {
    const { key, id } = await newKey({ name: 'Ben', limits: { promptsPerDay: 2 } });
    const seen: Array<{ id: string; name: string; limit: number }> = [];
    gate.events.on('quota', (reached) => seen.push(reached));
    const queue = () =>
      call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': key }, json: { prompt: SMALL_PROMPT } });
    expect((await queue()).status).toBe(200);
    expect(seen).toEqual([]);
    expect((await queue()).status).toBe(200);
    expect((await queue()).status).toBe(429);
    expect(seen).toEqual([{ id, name: 'Ben', limit: 2, measure: 'prompts' }]);
  });

  it('the notification switches default on and are part of the state', async () => {
    expect(gate.state.notifications).toEqual({ comfyDown: true, firstUse: true, lockout: true, quota: true });
    const patched = await call(`${gate.url}/gate/api/settings`, {
      method: 'PATCH',
      headers: { 'x-api-key': gate.adminKey },
      json: { notifications: { firstUse: false } },
    });
    expect(patched.status).toBe(200);
    expect(gate.state.notifications).toEqual({ comfyDown: true, firstUse: false, lockout: true, quota: true });
    const bad = await call<{ error: { code: string } }>(`${gate.url}/gate/api/settings`, {
      method: 'PATCH',
      headers: { 'x-api-key': gate.adminKey },
      json: { notifications: { firstUse: 'yes' } },
    });
    expect(bad.status).toBe(400);
  });

  // Last: it locks this address out.
  it('a lockout emits the address and until when', async () => {
    await call(`${gate.url}/gate/api/settings`, {
      method: 'PATCH',
      headers: { 'x-api-key': gate.adminKey },
      json: { lockout: { maxFailures: 2, windowMinutes: 5, lockoutMinutes: 1 } },
    });
    const seen: Array<{ ip: string; until: number }> = [];
    gate.events.on('lockout', (ip, until) => seen.push({ ip, until }));
    for (let i = 0; i < 2; i++) {
      expect((await call(`${gate.url}/api/queue`, { headers: { 'x-api-key': `wrong-${i}` } })).status).toBe(401);
    }
    await eventually(() => seen.length > 0, 'a lockout event');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.ip).toBe('127.0.0.1');
    expect(seen[0]?.until).toBeGreaterThan(Date.now());
  });
});
