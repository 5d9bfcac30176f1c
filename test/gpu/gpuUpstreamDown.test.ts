import { describe, expect, it } from 'vitest';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';
import { call } from '../helpers/http.js';
import { keyWith, queuePrompt } from './gpuHelpers.js';

const { fake, gate, admin } = withGateAndComfy({ comfy: { nodeDelayMs: 10_000 }, gate: { mode: 'required' } });

describe('GPU time while ComfyUI is gone', () => {
  it('keeps the gate answering and stops cleanly with a prompt it can no longer measure', async () => {
    const { key } = await keyWith(admin, { name: 'orphan' });
    const queued = await queuePrompt(gate.url, key);
    expect(queued.status).toBe(200);
    // ComfyUI goes away mid-prompt: the meter's socket and polls fail from here on.
    await fake.close();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const usage = await call<{ totals: { gpuSeconds: number } }>(`${gate.url}/gate/api/usage`, {
      method: 'GET',
      headers: { 'x-api-key': key },
    });
    expect([usage.status, usage.body.totals.gpuSeconds]).toEqual([200, 0]);
    const refused = await queuePrompt(gate.url, key);
    expect(refused.body.error?.code).toBe('upstream_unreachable');
    // afterAll stops the gate: it must not wait for the prompt.
  });
});
