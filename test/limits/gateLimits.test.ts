import { NO_LIMITS } from '../../server/keys/keySchema.js';
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { callerRequests, withGateAndComfy } from '../helpers/gateAndComfy.js';

// Slow nodes keep prompts in the queue long enough to hit the queue limit.
const { fake, gate, admin } = withGateAndComfy({ comfy: { nodeDelayMs: 150 }, gate: { mode: 'required' } });

async function keyWith(body: Record<string, unknown>): Promise<{ key: string; id: string }> {
  const res = await admin<{ key: string; id: string }>('POST', '/gate/api/keys', { name: 'limited', ...body });
  expect(res.status).toBe(201);
  return res.body;
}

function queuePrompt(key: string, extra: Record<string, unknown> = {}) {
  return call<{ prompt_id?: string; error?: { code: string; message: string } }>(`${gate.url}/api/prompt`, {
    headers: { 'x-api-key': key },
    json: { prompt: SMALL_PROMPT, ...extra },
  });
}

/** Until ComfyUI runs nothing: a creator's global interrupt only ever hits their own prompt. */
async function queueIdle(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const queue = await admin<{ queue_running: unknown[]; queue_pending: unknown[] }>('GET', '/api/queue');
    if (queue.body.queue_running.length === 0 && queue.body.queue_pending.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the fake ComfyUI never became idle');
}

describe('requests per minute', () => {
  it('counts down in the headers, then refuses with 429, Retry-After and the limit named', async () => {
    const { key } = await keyWith({ limits: { perMinute: 3, perHour: 100 } });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': key } });
      expect(res.status).toBe(200);
      remaining.push(String(res.headers['x-ratelimit-remaining']));
      expect(res.headers['x-ratelimit-limit']).toBe('3');
      expect(String(res.headers['ratelimit-policy'])).toBe('"per-minute";q=3;w=60, "per-hour";q=100;w=3600');
      expect(String(res.headers['ratelimit'])).toMatch(/^"per-minute";r=\d+;t=\d+, "per-hour";r=\d+;t=\d+$/);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const before = callerRequests(fake).length;
    const refused = await call<{ error: { code: string } }>(`${gate.url}/api/prompt`, {
      headers: { 'x-api-key': key },
    });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limit_minute');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(callerRequests(fake).length).toBe(before);
  });

  it('adds no rate-limit headers for an unlimited key', async () => {
    const res = await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': gate.adminKey } });
    expect(res.headers['x-ratelimit-limit']).toBeUndefined();
  });
});

describe('prompts per day', () => {
  it('counts only prompts ComfyUI accepted', async () => {
    const { key } = await keyWith({ limits: { promptsPerDay: 2 } });
    const invalid = await call(`${gate.url}/api/prompt`, {
      headers: { 'x-api-key': key },
      json: { prompt: { '1': { class_type: 'NoSuchNode', inputs: {} } } },
    });
    expect(invalid.status).toBe(400);
    expect((await queuePrompt(key)).status).toBe(200);
    expect((await queuePrompt(key)).status).toBe(200);
    const third = await queuePrompt(key);
    expect(third.status).toBe(429);
    expect(third.body.error?.code).toBe('rate_limit_prompts_day');
    expect(String(third.headers['ratelimit-policy'])).toContain('"prompts-per-day";q=2');
  });
});

describe('fair queueing (maxQueued)', () => {
  it('refuses a prompt over the cap, naming how many are pending, and frees the slot when one finishes', async () => {
    const { key } = await keyWith({ limits: { maxQueued: 1 } });
    const first = await queuePrompt(key);
    expect(first.status).toBe(200);
    const second = await queuePrompt(key);
    expect(second.status).toBe(429);
    expect(second.body.error?.code).toBe('queue_limit');
    expect(second.body.error?.message).toMatch(/^1 of your prompts are still queued or running \(limit 1\)/);

    // The gate reconciles with ComfyUI's /queue at the cap: once the first prompt is done, a slot is free.
    const firstId = first.body.prompt_id!;
    let third = await queuePrompt(key);
    for (let i = 0; i < 40 && third.status === 429; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      third = await queuePrompt(key);
    }
    expect(third.status).toBe(200);
    const history = await call<Record<string, { status: { status_str: string } }>>(
      `${gate.url}/api/history/${firstId}`,
      {
        headers: { 'x-api-key': gate.adminKey },
      }
    );
    expect(history.body[firstId]?.status.status_str).toBe('success');
  });

  it('frees the slot of an interrupted prompt', async () => {
    await queueIdle();
    const { key } = await keyWith({ limits: { maxQueued: 1 } });
    const first = await queuePrompt(key);
    expect(first.status).toBe(200);
    const interrupted = await call(`${gate.url}/api/interrupt`, { headers: { 'x-api-key': key }, json: {} });
    expect(interrupted.status).toBe(200);
    let next = await queuePrompt(key);
    for (let i = 0; i < 40 && next.status === 429; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      next = await queuePrompt(key);
    }
    expect(next.status).toBe(200);
  });

  it('frees the slot of a prompt deleted from the queue', async () => {
    const blocker = await queuePrompt(gate.adminKey);
    expect(blocker.status).toBe(200);
    const { key } = await keyWith({ limits: { maxQueued: 1 } });
    const pending = await queuePrompt(key);
    expect(pending.status).toBe(200);
    expect((await queuePrompt(key)).status).toBe(429);
    const deleted = await call(`${gate.url}/api/queue`, {
      headers: { 'x-api-key': key },
      json: { delete: [pending.body.prompt_id] },
    });
    expect(deleted.status).toBe(200);
    expect((await queuePrompt(key)).status).toBe(200);
  });
});

describe('what the gate does to a prompt', () => {
  it('sets prompt_id and client_id, strips queue jumping for a creator, keeps 64-bit numbers exact', async () => {
    const { key } = await keyWith({ role: 'creator' });
    await queuePrompt(gate.adminKey);
    const res = await call<{ prompt_id: string }>(`${gate.url}/api/prompt`, {
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: `{"prompt": ${JSON.stringify(SMALL_PROMPT)}, "front": true, "extra_data": {"seed_note": 18446744073709551615}}`,
    });
    expect(res.status).toBe(200);
    expect(res.body.prompt_id).toMatch(/^[0-9a-f-]{36}$/);
    const queue = await call(`${gate.url}/api/queue`, { headers: { 'x-api-key': gate.adminKey } });
    expect(queue.text).toContain('18446744073709551615');
    const items = (queue.body as { queue_pending: Array<[number, string, unknown, { client_id?: string }]> })
      .queue_pending;
    const ours = items.find((item) => item[1] === res.body.prompt_id);
    expect(ours).toBeDefined();
    expect(ours![0]).toBeGreaterThan(0);
    expect(ours![3].client_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it("refuses a prompt_id that belongs to another caller's queued prompt", async () => {
    const theirs = await queuePrompt(gate.adminKey);
    const { key } = await keyWith({ role: 'creator' });
    const res = await queuePrompt(key, { prompt_id: theirs.body.prompt_id });
    expect(res.status).toBe(409);
  });
});

describe('the guest preset', () => {
  it('makes a viewer that may generate, with tight limits, in one step', async () => {
    const res = await admin<{
      key: string;
      role: string;
      scopes: string[];
      limits: Record<string, number>;
      expiresAt: string;
    }>('POST', '/gate/api/keys', { name: 'demo', preset: 'guest' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ role: 'viewer', scopes: ['read', 'generate'] });
    expect(res.body.limits).toEqual({ ...NO_LIMITS, perMinute: 120, perHour: 1200, promptsPerDay: 20, maxQueued: 1 });
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    expect((await queuePrompt(res.body.key)).status).toBe(200);
    expect((await call(`${gate.url}/api/free`, { headers: { 'x-api-key': res.body.key }, json: {} })).status).toBe(403);
  });

  it('applies the default limits from settings to new keys', async () => {
    await admin('PATCH', '/gate/api/settings', { defaultLimits: { perHour: 500 } });
    try {
      const res = await admin<{ limits: Record<string, number | null> }>('POST', '/gate/api/keys', {
        name: 'defaults',
      });
      expect(res.body.limits).toEqual({ ...NO_LIMITS, perHour: 500 });
    } finally {
      await admin('PATCH', '/gate/api/settings', { defaultLimits: { perHour: null } });
    }
  });
});

describe('anonymous tier', () => {
  it('limits callers without a key per address in mode optional', async () => {
    await admin('PATCH', '/gate/api/settings', { mode: 'optional', anonymous: { limits: { perMinute: 2 } } });
    try {
      expect((await call(`${gate.url}/api/object_info/EmptyImage`)).status).toBe(200);
      expect((await call(`${gate.url}/api/object_info/EmptyImage`)).status).toBe(200);
      const refused = await call<{ error: { code: string } }>(`${gate.url}/api/object_info/EmptyImage`);
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('rate_limit_minute');
      // A key has its own limits, unaffected by the anonymous tier's.
      expect(
        (await call(`${gate.url}/api/object_info/EmptyImage`, { headers: { 'x-api-key': gate.adminKey } })).status
      ).toBe(200);
      // Refused before it is counted; to a creator, the Manager looks not installed.
      const install = await call(`${gate.url}/api/manager/reboot`, { headers: { 'x-forwarded-for': '9.9.9.9' } });
      expect(install.status).toBe(404);
    } finally {
      await admin('PATCH', '/gate/api/settings', { mode: 'required', anonymous: { limits: { perMinute: 60 } } });
    }
  });
});
