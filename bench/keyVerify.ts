// Key verification on its own, in this process: the part of auth that runs on every request with a key.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateKey } from '../server/keys/keyFormat.js';
import { KeyStore, type VerifyResult } from '../server/keys/keyStore.js';

export interface KeyVerifyOptions {
  /** Calls per case before timing: lets V8 optimize verify() and the checksum loop. */
  warmupCalls: number;
  /** Timed calls per case, split into `rounds` equal rounds. */
  calls: number;
  /** The median round is reported: one round hit by a context switch or GC does not move it. */
  rounds: number;
}

export interface KeyVerifyCase {
  label: string;
  /** What verify() answered, checked to be the expected outcome before timing. */
  outcome: string;
  /** Median round, µs per verify() call. */
  usPerVerify: number;
  /** Every round, µs per call, in the order they ran. */
  roundsUs: number[];
  calls: number;
}

/** Which key each case verifies, and the outcome verify() must give it (else the case measures the wrong path). */
interface CaseInput {
  label: string;
  key: string;
  expected: string;
}

/**
 * Opens a KeyStore in a fresh temporary data dir, creates one key, and times `verify()` for a valid key, the same
 * key with a wrong checksum (refused before the hash), and a well-formed key the store does not know (checksum,
 * hash and a missed lookup).
 */
export async function measureKeyVerify(options: KeyVerifyOptions): Promise<KeyVerifyCase[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'comfygate-bench-keys-'));
  try {
    const store = await KeyStore.open(dataDir);
    try {
      const { key } = await store.create({ name: 'bench-verify' });
      const cases: CaseInput[] = [
        { label: 'valid key', key, expected: 'ok' },
        { label: 'wrong checksum', key: withWrongChecksum(key), expected: 'malformed' },
        { label: 'unknown key, valid format', key: generateKey(), expected: 'unknown' },
      ];
      return cases.map((input) => timeCase(store, input, options));
    } finally {
      await store.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

function outcomeOf(result: VerifyResult): string {
  return result.ok ? 'ok' : result.reason;
}

/** The last character is a checksum digit: any other base62 digit there makes the checksum disagree. */
function withWrongChecksum(key: string): string {
  const last = key.charAt(key.length - 1);
  return key.slice(0, -1) + (last === 'A' ? 'B' : 'A');
}

function timeCase(store: KeyStore, input: CaseInput, options: KeyVerifyOptions): KeyVerifyCase {
  const outcome = outcomeOf(store.verify(input.key));
  if (outcome !== input.expected) {
    throw new Error(`verify() of the ${input.label} answered ${outcome}, expected ${input.expected}`);
  }
  // Counted and checked so that V8 cannot drop the calls as unused.
  let okCount = 0;
  const run = (calls: number): void => {
    const key = input.key;
    for (let i = 0; i < calls; i++) if (store.verify(key).ok) okCount++;
  };
  run(options.warmupCalls);
  const perRound = Math.max(1, Math.round(options.calls / options.rounds));
  const roundsUs: number[] = [];
  okCount = 0;
  for (let round = 0; round < options.rounds; round++) {
    const start = performance.now();
    run(perRound);
    roundsUs.push(((performance.now() - start) * 1000) / perRound);
  }
  const expectedOk = input.expected === 'ok' ? perRound * options.rounds : 0;
  if (okCount !== expectedOk) throw new Error(`verify() of the ${input.label} changed its answer while timed`);
  const sorted = [...roundsUs].sort((a, b) => a - b);
  return {
    label: input.label,
    outcome,
    usPerVerify: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
    roundsUs,
    calls: perRound * options.rounds,
  };
}
