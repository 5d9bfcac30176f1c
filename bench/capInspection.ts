// The generation-caps check of a small POST /prompt on its own, in this process: its cost per prompt
// without caps (the common case: nothing is parsed) and with every cap set (the graph is parsed and scanned).
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { NO_LIMITS, type Limits } from '../server/keys/keySchema.js';
import { generationCapsCheck } from '../server/limits/generationCapsCheck.js';
import { Exchange } from '../server/pipeline/exchange.js';
import { InspectedBody } from '../server/pipeline/inspectedBody.js';
import { DEFAULT_SETTINGS } from '../server/settings/settingsSchema.js';
import { SMALL_PROMPT } from '../test/helpers/prompts.js';
import type { KeyVerifyOptions } from './keyVerify.js';

export interface CapInspectionCase {
  label: string;
  /** Median round, µs per prompt. */
  usPerPrompt: number;
  /** Every round, µs per prompt, in the order they ran. */
  roundsUs: number[];
  calls: number;
}

/** The web UI's own shape of a small prompt: the graph, a client id and its workflow beside it. */
const BODY = Buffer.from(
  JSON.stringify({ client_id: 'bench', prompt: SMALL_PROMPT, extra_data: { extra_pnginfo: { workflow: {} } } })
);

const ALL_CAPS: Limits = {
  ...NO_LIMITS,
  maxPixels: 1024 * 1024,
  maxBatch: 4,
  maxSteps: 40,
  maxFrames: 121,
  maxNodes: 100,
};

/** Times the check on the same body for a key without caps and a key with all five (the graph fits them). */
export function measureCapInspection(options: KeyVerifyOptions): CapInspectionCase[] {
  return [timeCase('small prompt, no caps', NO_LIMITS, options), timeCase('small prompt, all caps', ALL_CAPS, options)];
}

function timeCase(label: string, limits: Limits, options: KeyVerifyOptions): CapInspectionCase {
  const check = generationCapsCheck({ current: DEFAULT_SETTINGS });
  const req = new IncomingMessage(new Socket());
  req.method = 'POST';
  req.url = '/api/prompt';
  const exchange = Object.assign(new Exchange(req, false, '127.0.0.1'), {
    bodyCheck: 'prompt',
    limitSubject: 'key_bench',
    principal: { keyId: 'key_bench', name: 'bench', role: 'creator', scopes: null, limits, via: 'header' },
  } satisfies Partial<Exchange>);
  // The gate locates the body's members once per request whatever the checks; only the check is timed.
  const body = new InspectedBody(BODY);
  let refused = 0;
  const run = (calls: number): void => {
    for (let i = 0; i < calls; i++) if (check(exchange, body) !== undefined) refused++;
  };
  run(options.warmupCalls);
  const perRound = Math.max(1, Math.round(options.calls / options.rounds));
  const roundsUs: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const start = performance.now();
    run(perRound);
    roundsUs.push(((performance.now() - start) * 1000) / perRound);
  }
  if (refused !== 0) throw new Error(`the caps check refused the small prompt (${label})`);
  const sorted = [...roundsUs].sort((a, b) => a - b);
  return {
    label,
    usPerPrompt: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
    roundsUs,
    calls: perRound * options.rounds,
  };
}
