// GPU time with several backends: the meter reads /queue and /history/{id} through the backend router, which
// merges the queues and sends each history look to the backend that ran the prompt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageReport } from '../../server/usage/usageSchema.js';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { gpuSecondsOf, keyWith, queuePrompt, trueSeconds, waitForHistory } from '../gpu/gpuHelpers.js';
import { call } from '../helpers/http.js';
import { startTestGate, type TestGate } from '../helpers/testGate.js';

// Long nodes: a meter that counted nothing, or one prompt twice, would be off by more than 1 s.
const NODE_DELAY_MS = 1_000;

describe('GPU time of prompts placed on different backends', () => {
  let fakes: FakeComfy[] = [];
  let gate: TestGate;
  const admin = <T = unknown>(method: string, path: string, json?: unknown) =>
    call<T>(`${gate.url}${path}`, { method, headers: { 'x-api-key': gate.adminKey }, json });

  beforeAll(async () => {
    fakes = await Promise.all([
      startFakeComfy({ nodeDelayMs: NODE_DELAY_MS }),
      startFakeComfy({ nodeDelayMs: NODE_DELAY_MS }),
    ]);
    gate = await startTestGate({
      mode: 'required',
      upstream: fakes[0]!.url,
      upstreams: fakes.map((fake, index) => ({ url: fake.url, label: `gpu${index}` })),
    });
  });

  afterAll(async () => {
    await gate.stop();
    await Promise.all(fakes.map((fake) => fake.close()));
  });

  async function measured(key: string): Promise<number> {
    for (let i = 0; i < 200; i++) {
      const res = await call<UsageReport>(`${gate.url}/gate/api/usage`, { headers: { 'x-api-key': key } });
      if (res.body.totals.gpuSeconds > 0) return res.body.totals.gpuSeconds;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return 0;
  }

  it('measures each prompt’s seconds on the backend that ran it, for each key', async () => {
    const first = await keyWith(admin, { name: 'on gpu0' });
    const second = await keyWith(admin, { name: 'on gpu1' });
    // Both idle: the first goes to gpu0 (first listed), the second to gpu1 (gpu0 has one ahead).
    const a = (await queuePrompt(gate.url, first.key)).body.prompt_id!;
    const b = (await queuePrompt(gate.url, second.key)).body.prompt_id!;
    const [gpu0, gpu1] = fakes as [FakeComfy, FakeComfy];
    await waitForHistory(gate.url, first.key, a);
    await waitForHistory(gate.url, second.key, b);
    const ran = async (fake: FakeComfy, id: string) =>
      Object.keys((await call<Record<string, unknown>>(`${fake.url}/history/${id}`)).body);
    expect([await ran(gpu0, a), await ran(gpu1, b)]).toEqual([[a], [b]]);
    const truthA = await trueSeconds(gpu0.url, a);
    const truthB = await trueSeconds(gpu1.url, b);
    expect(truthA).toBeGreaterThan(1.5);
    expect(truthB).toBeGreaterThan(1.5);

    expect(Math.abs((await measured(first.key)) - truthA)).toBeLessThan(1);
    expect(Math.abs((await measured(second.key)) - truthB)).toBeLessThan(1);
    const metrics = await call(`${gate.url}/gate/metrics`, { headers: { 'x-api-key': gate.adminKey } });
    expect(Math.abs(gpuSecondsOf(metrics.text, first.id)! - truthA)).toBeLessThan(1);
    expect(Math.abs(gpuSecondsOf(metrics.text, second.id)! - truthB)).toBeLessThan(1);
  });
});
