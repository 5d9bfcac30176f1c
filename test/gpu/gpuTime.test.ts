import { describe, expect, it } from 'vitest';
import type { UsageReport } from '../../server/usage/usageSchema.js';
import { callerRequests, withGateAndComfy } from '../helpers/gateAndComfy.js';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { eventually } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';
import { gpuSecondsOf, keyWith, queuePrompt, trueSeconds, waitForHistory } from './gpuHelpers.js';

// Long nodes: a meter that counted nothing (or the time to the answer of POST /prompt) would be off by more than 1 s.
const NODE_DELAY_MS = 1_200;
const { fake, gate, admin } = withGateAndComfy({ comfy: { nodeDelayMs: NODE_DELAY_MS }, gate: { mode: 'required' } });

async function usageGpuSeconds(key: string): Promise<number> {
  const res = await call<UsageReport>(`${gate.url}/gate/api/usage`, { method: 'GET', headers: { 'x-api-key': key } });
  expect(res.status).toBe(200);
  return res.body.totals.gpuSeconds;
}

async function eventuallyAsync(check: () => Promise<boolean>, message: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out: ${message}`);
}

/** Until the gate's usage API shows GPU time for the key, then that time. */
async function measuredSeconds(key: string): Promise<number> {
  let seconds = 0;
  for (let i = 0; i < 200 && seconds === 0; i++) {
    seconds = await usageGpuSeconds(key);
    if (seconds === 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return seconds;
}

async function metricFor(keyId: string): Promise<number | undefined> {
  const res = await call(`${gate.url}/gate/metrics`, { method: 'GET', headers: { 'x-api-key': gate.adminKey } });
  return gpuSecondsOf(res.text, keyId);
}

describe('GPU time per key, from ComfyUI’s own timestamps', () => {
  it('a WebSocket client’s successful prompt', async () => {
    fake.setNodeDelay(NODE_DELAY_MS);
    const { key, id } = await keyWith(admin, { name: 'ws client' });
    const socket = await RecordingSocket.open(`${gate.url.replace(/^http/, 'ws')}/ws?clientId=gpu-ws-client`, {
      headers: { 'x-api-key': key },
    });
    const queued = await queuePrompt(gate.url, key, { client_id: 'gpu-ws-client' });
    expect(queued.status).toBe(200);
    const promptId = queued.body.prompt_id!;
    await eventually(
      () => socket.json().some((m) => (m as { type?: string }).type === 'execution_success'),
      'the client saw its prompt succeed',
      10_000
    );
    await socket.close();
    const truth = await trueSeconds(fake.url, promptId);
    expect(truth).toBeGreaterThan(2);
    expect(Math.abs((await measuredSeconds(key)) - truth)).toBeLessThan(1);
    expect(Math.abs((await metricFor(id))! - truth)).toBeLessThan(1);
  });

  it('a script that only polls /history, without a WebSocket', async () => {
    fake.setNodeDelay(NODE_DELAY_MS);
    const { key, id } = await keyWith(admin, { name: 'polling script' });
    const queued = await queuePrompt(gate.url, key);
    const promptId = queued.body.prompt_id!;
    await waitForHistory(gate.url, key, promptId);
    const truth = await trueSeconds(fake.url, promptId);
    expect(truth).toBeGreaterThan(2);
    expect(Math.abs((await measuredSeconds(key)) - truth)).toBeLessThan(1);
    expect(Math.abs((await metricFor(id))! - truth)).toBeLessThan(1);
    // The gate's own socket to ComfyUI was open while the prompt was outstanding, and only then.
    expect(fake.upgrades.some((u) => u.rawUrl.startsWith('/ws?clientId=comfygate-gpu-'))).toBe(true);
    await eventually(() => fake.openSockets() === 0, 'the monitor socket closed', 5_000);
  });

  it('a prompt that fails in a node counts until its execution_error', async () => {
    fake.setNodeDelay(NODE_DELAY_MS);
    const { key } = await keyWith(admin, { name: 'failing script' });
    const failing = {
      '1': SMALL_PROMPT['1'],
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: '../outside/gate_test' } },
    };
    const promptId = (await queuePrompt(gate.url, key, { prompt: failing })).body.prompt_id!;
    const entry = await waitForHistory(gate.url, key, promptId);
    expect(entry.status.messages.at(-1)?.[0]).toBe('execution_error');
    const truth = await trueSeconds(fake.url, promptId);
    expect(truth).toBeGreaterThan(2);
    expect(Math.abs((await measuredSeconds(key)) - truth)).toBeLessThan(1);
  });

  it('an interrupted prompt counts until its execution_interrupted', async () => {
    // One long first node: the interrupt lands inside it, well after the start.
    fake.setNodeDelay(6_000);
    const { key } = await keyWith(admin, { name: 'interrupted script' });
    const promptId = (await queuePrompt(gate.url, key)).body.prompt_id!;
    for (let running = false; !running;) {
      const queue = await call<{ queue_running: unknown[][] }>(`${gate.url}/api/queue`, {
        method: 'GET',
        headers: { 'x-api-key': key },
      });
      running = queue.body.queue_running.some((item) => item[1] === promptId);
      if (!running) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const interrupt = await call(`${gate.url}/api/interrupt`, {
      headers: { 'x-api-key': key },
      json: { prompt_id: promptId },
    });
    expect(interrupt.status).toBe(200);
    const entry = await waitForHistory(gate.url, key, promptId);
    expect(entry.status.messages.at(-1)?.[0]).toBe('execution_interrupted');
    const truth = await trueSeconds(fake.url, promptId);
    expect(truth).toBeGreaterThan(1.4);
    expect(truth).toBeLessThan(6);
    expect(Math.abs((await measuredSeconds(key)) - truth)).toBeLessThan(1);
  });
});

describe('GPU seconds per day', () => {
  it('a prompt already queued runs to its end; past the quota new prompts are refused 429 in ComfyUI’s error shape', async () => {
    fake.setNodeDelay(NODE_DELAY_MS);
    const { key, id } = await keyWith(admin, { name: 'gpu quota', limits: { gpuSecondsPerDay: 1 } });
    const announced: unknown[] = [];
    const onQuota = (reached: unknown): void => void announced.push(reached);
    gate.events.on('quota', onQuota);
    const first = (await queuePrompt(gate.url, key)).body.prompt_id!;
    // Queued while the first runs and nothing is measured yet: accepted, and it must finish though the quota is passed.
    const second = await queuePrompt(gate.url, key);
    expect(second.status).toBe(200);
    await waitForHistory(gate.url, key, first);
    const secondEntry = await waitForHistory(gate.url, key, second.body.prompt_id!);
    expect(secondEntry.status.status_str).toBe('success');
    // Both measured (nothing left for the meter to ask ComfyUI), the one that ran past the quota included.
    const truth = (await trueSeconds(fake.url, first)) + (await trueSeconds(fake.url, second.body.prompt_id!));
    await eventuallyAsync(async () => (await usageGpuSeconds(key)) > truth - 1, 'both prompts measured');

    const before = callerRequests(fake).length;
    const refused = await queuePrompt(gate.url, key);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(25 * 3600);
    expect(refused.body).toMatchObject({
      error: { code: 'gpu_quota', type: 'gpu_quota', extra_info: {} },
      node_errors: {},
    });
    expect(refused.body.error?.message).toMatch(/Daily GPU time of 1 s used up/);
    expect(callerRequests(fake).length).toBe(before);
    // Announced once, when the first measured prompt crossed the quota; not again for the second.
    gate.events.off('quota', onQuota);
    expect(announced).toEqual([{ id, name: 'gpu quota', limit: 1, measure: 'gpuSeconds' }]);
  });

  it('a role default applies to a key with no quota of its own', async () => {
    fake.setNodeDelay(NODE_DELAY_MS);
    const settings = await admin('PATCH', '/gate/api/settings', { roleLimits: { creator: { gpuSecondsPerDay: 1 } } });
    expect(settings.status).toBe(200);
    try {
      const { key } = await keyWith(admin, { name: 'role default', role: 'creator' });
      const who = await call<{ gpuQuotaSeconds: number | null }>(`${gate.url}/gate/api/whoami`, {
        method: 'GET',
        headers: { 'x-api-key': key },
      });
      expect(who.body.gpuQuotaSeconds).toBe(1);
      const promptId = (await queuePrompt(gate.url, key)).body.prompt_id!;
      await waitForHistory(gate.url, key, promptId);
      expect(await measuredSeconds(key)).toBeGreaterThan(1);
      const refused = await queuePrompt(gate.url, key);
      expect([refused.status, refused.body.error?.code]).toEqual([429, 'gpu_quota']);
    } finally {
      await admin('PATCH', '/gate/api/settings', { roleLimits: { creator: {} } });
    }
  });
});
