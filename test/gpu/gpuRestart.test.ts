import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateConfigSchema } from '../../server/config/schema.js';
import { startGate, type GateHandle } from '../../server/gate.js';
import type { UsageReport } from '../../server/usage/usageSchema.js';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { call } from '../helpers/http.js';
import { startTestGate, type TestGate } from '../helpers/testGate.js';
import { keyWith, queuePrompt, trueSeconds, waitForHistory } from './gpuHelpers.js';

let fake: FakeComfy;
let dataDir: string;
let first: TestGate;
let second: GateHandle | undefined;

beforeAll(async () => {
  fake = await startFakeComfy({ nodeDelayMs: 1_000 });
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-gpu-restart-'));
  first = await startTestGate({ upstream: fake.url, mode: 'required', dataDir });
});

afterAll(async () => {
  await second?.stop();
  await first.stop();
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** The same data folder, a new gate process's worth of state: keys, settings and usage.json are all it keeps. */
async function restart(): Promise<GateHandle> {
  await first.stop();
  second = await startGate({
    config: gateConfigSchema.parse({ host: '127.0.0.1', port: 0, logLevel: 'silent', upstream: fake.url, dataDir }),
  });
  return second;
}

async function gpuSecondsToday(url: string, key: string): Promise<number> {
  const res = await call<UsageReport>(`${url}/gate/api/usage`, { method: 'GET', headers: { 'x-api-key': key } });
  expect(res.status).toBe(200);
  return res.body.totals.gpuSeconds;
}

describe('GPU time across a restart of the gate', () => {
  it('keeps the day’s GPU seconds and the quota, and measures a prompt that was running while the gate restarted', async () => {
    const admin = <T>(method: string, path: string, json?: unknown) =>
      call<T>(`${first.url}${path}`, { method, headers: { 'x-api-key': first.adminKey }, json });
    const { key } = await keyWith(admin, { name: 'restarted', limits: { gpuSecondsPerDay: 3 } });
    const measured = (await queuePrompt(first.url, key)).body.prompt_id!;
    await waitForHistory(first.url, key, measured);
    const measuredTruth = await trueSeconds(fake.url, measured);
    let before = 0;
    for (let i = 0; i < 200 && before === 0; i++) {
      before = await gpuSecondsToday(first.url, key);
      if (before === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(Math.abs(before - measuredTruth)).toBeLessThan(1);

    // Queued, then the gate goes away before it ends: the new gate finds it by its owner stamp.
    const running = (await queuePrompt(first.url, key)).body.prompt_id!;
    const gate = await restart();
    await waitForHistory(gate.url, key, running);
    const runningTruth = await trueSeconds(fake.url, running);
    let after = 0;
    for (let i = 0; i < 300 && after < before + runningTruth - 1; i++) {
      after = await gpuSecondsToday(gate.url, key);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(Math.abs(after - (measuredTruth + runningTruth))).toBeLessThan(1);

    // Over the quota of 3 s by the two prompts, one of them measured before the restart.
    const refused = await queuePrompt(gate.url, key);
    expect([refused.status, refused.body.error?.code]).toEqual([429, 'gpu_quota']);
  });
});
