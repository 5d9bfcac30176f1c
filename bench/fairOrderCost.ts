// The fair order of a small POST /prompt on its own, in this process: fairOrderCheck (the key's weight, the place
// from FairQueue.reserve, the `number` edit) and the admission of ComfyUI's 200, with the fair queue on and off.
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fairOrderCheck } from '../server/fairness/fairOrderCheck.js';
import { FairQueue } from '../server/fairness/fairQueue.js';
import { NO_LIMITS } from '../server/keys/keySchema.js';
import { Exchange } from '../server/pipeline/exchange.js';
import { InspectedBody } from '../server/pipeline/inspectedBody.js';
import { DEFAULT_SETTINGS, type RuntimeSettings } from '../server/settings/settingsSchema.js';
import { SMALL_PROMPT } from '../test/helpers/prompts.js';
import type { CapInspectionCase } from './capInspection.js';
import type { KeyVerifyOptions } from './keyVerify.js';

const BODY = Buffer.from(
  JSON.stringify({ client_id: 'bench', prompt: SMALL_PROMPT, extra_data: { extra_pnginfo: { workflow: {} } } })
);
/** Keys taking turns. */
const SUBJECTS = ['key_a', 'key_b', 'key_c'];

/** µs per prompt of the fair order with the fair queue on (10 or 1,000 prompts queued) and off. */
export async function measureFairOrder(options: KeyVerifyOptions): Promise<CapInspectionCase[]> {
  const on = (byGpuTime: boolean): RuntimeSettings => ({
    ...DEFAULT_SETTINGS,
    fairQueue: { enabled: true, byGpuTime },
  });
  const off: RuntimeSettings = { ...DEFAULT_SETTINGS, fairQueue: { enabled: false, byGpuTime: false } };
  return [
    await timeCase('fair order on (3 keys, 10 queued)', on(false), 10, options),
    await timeCase('fair order on, weighted by GPU time', on(true), 10, options),
    await timeCase('fair order on, 1,000 queued (a script)', on(false), 1_000, options),
    await timeCase('fair order off', off, 10, options),
  ];
}

async function timeCase(
  label: string,
  settings: RuntimeSettings,
  queued: number,
  options: KeyVerifyOptions
): Promise<CapInspectionCase> {
  const fair = new FairQueue({ readQueue: () => Promise.resolve({ running: [], pending: [] }) });
  const check = fairOrderCheck({
    fair,
    settings: { current: settings },
    gpu: { secondsToday: () => 120, averagePromptSeconds: () => 5 },
  });
  const exchanges = SUBJECTS.map((subject) => {
    const req = new IncomingMessage(new Socket());
    req.method = 'POST';
    req.url = '/api/prompt';
    return Object.assign(new Exchange(req, false, '127.0.0.1'), {
      bodyCheck: 'prompt',
      limitSubject: subject,
      principal: { keyId: subject, name: subject, role: 'creator', scopes: null, limits: NO_LIMITS, via: 'header' },
    } satisfies Partial<Exchange>);
  });
  // The gate locates the body's members once per request whatever the checks; only the fair order is timed.
  const body = new InspectedBody(BODY);
  let sent = 0;
  const run = async (calls: number): Promise<void> => {
    for (let i = 0; i < calls; i++) {
      const exchange = exchanges[sent % exchanges.length]!;
      await check(exchange, body);
      // ComfyUI's 200, and the oldest prompt finishing: the queue keeps its length, as on a busy GPU.
      fair.settle(exchange, 200, `p${sent}`);
      fair.finish(`p${sent - queued}`);
      sent++;
    }
  };
  await run(options.warmupCalls);
  const perRound = Math.max(1, Math.round(options.calls / options.rounds));
  const roundsUs: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const start = performance.now();
    await run(perRound);
    roundsUs.push(((performance.now() - start) * 1000) / perRound);
  }
  if (settings.fairQueue.enabled && fair.size !== queued) throw new Error(`the fair queue holds ${fair.size} prompts`);
  const sorted = [...roundsUs].sort((a, b) => a - b);
  return {
    label,
    usPerPrompt: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
    roundsUs,
    calls: perRound * options.rounds,
  };
}
