// What several gates sharing Redis cost: the gate CPU per request with and without `--redis` (for a key with rate
// limits, which pays one round trip, and one without), and how long a revoke on one gate takes to close the key's
// WebSocket on another.
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { WebSocket } from 'ws';
import { startRedisServer } from '../test/helpers/redisServer.js';
import { percentile } from './httpLoad.js';
import type { GateRun } from './report.js';
import { renderTable } from './table.js';

export interface RedisBenchGate {
  url: string;
  auth: Record<string, string>;
  limitedAuth: Record<string, string>;
  adminAuth: Record<string, string>;
  stop(): Promise<unknown>;
}

export interface RedisBenchDeps<G extends RedisBenchGate> {
  /** A gate as the other rows start it, plus these `serve` arguments. */
  startGate(extraArgs: readonly string[]): Promise<G>;
  /** The small JSON GET load of the other rows, with these headers. */
  measure(gate: G, headers: Record<string, string>): Promise<GateRun>;
}

export interface RedisBenchResult {
  limited: { files: GateRun; redis: GateRun };
  unlimited: { files: GateRun; redis: GateRun };
  /** Ms from sending the revoke to gate 1 until the key's WebSocket on gate 2 closed, and until gate 1 answered. */
  revocation: { closeMs: number[]; answerMs: number[] };
}

const REVOCATIONS = 7;

export async function benchRedis<G extends RedisBenchGate>(deps: RedisBenchDeps<G>): Promise<RedisBenchResult> {
  const redis = await startRedisServer();
  const gates: G[] = [];
  try {
    const files = await deps.startGate([]);
    gates.push(files);
    const shared = await deps.startGate(['--redis', redis.url]);
    gates.push(shared);
    // Alternated, so a drift of the machine's speed weighs on both sides alike.
    const limitedFiles = await deps.measure(files, files.limitedAuth);
    const limitedRedis = await deps.measure(shared, shared.limitedAuth);
    const unlimitedRedis = await deps.measure(shared, shared.auth);
    const unlimitedFiles = await deps.measure(files, files.auth);
    await files.stop();

    const second = await deps.startGate(['--redis', redis.url]);
    gates.push(second);
    const revocation = await measureRevocations(shared, second);
    return {
      limited: { files: limitedFiles, redis: limitedRedis },
      unlimited: { files: unlimitedFiles, redis: unlimitedRedis },
      revocation,
    };
  } finally {
    await Promise.allSettled(gates.map((gate) => gate.stop()));
    await redis.stop();
  }
}

/** Gate 2 adopted gate 1's keys from Redis: keys made on gate 1 are revoked there while gate 2 holds their sockets. */
async function measureRevocations(
  first: RedisBenchGate,
  second: RedisBenchGate
): Promise<RedisBenchResult['revocation']> {
  const closeMs: number[] = [];
  const answerMs: number[] = [];
  for (let i = 0; i < REVOCATIONS; i++) {
    const created = await request(`${first.url}/gate/api/keys`, {
      method: 'POST',
      headers: { ...first.adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `bench-revoke-${i}` }),
    });
    const { id, key } = (await created.body.json()) as { id: string; key: string };
    const socket = new WebSocket(`${second.url.replace(/^http/, 'ws')}/ws?clientId=bench-revoke-${i}`, {
      headers: { 'x-api-key': key },
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
    const start = performance.now();
    const revoked = await request(`${first.url}/gate/api/keys/${id}`, {
      method: 'PATCH',
      headers: { ...first.adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ active: false }),
    });
    await revoked.body.dump();
    answerMs.push(performance.now() - start);
    closeMs.push((await closed) - start);
  }
  return { closeMs, answerMs };
}

export function printRedisReport(result: RedisBenchResult): void {
  const us = (run: GateRun): string => `${run.gateCpuUsPerRequest.toFixed(1)} µs`;
  const added = (pair: { files: GateRun; redis: GateRun }): string =>
    `${pair.redis.gateCpuUsPerRequest - pair.files.gateCpuUsPerRequest >= 0 ? '+' : ''}${(
      pair.redis.gateCpuUsPerRequest - pair.files.gateCpuUsPerRequest
    ).toFixed(1)} µs`;
  const p50 = (run: GateRun): string => `${run.load.load.p50Ms.toFixed(2)} ms`;
  const ms = (values: number[]): string => {
    const sorted = [...values].sort((a, b) => a - b);
    return `p50 ${percentile(sorted, 0.5).toFixed(1)} / max ${(sorted.at(-1) ?? Number.NaN).toFixed(1)} ms`;
  };
  const { limited, unlimited, revocation } = result;
  const table = renderTable(
    [
      { header: 'several gates sharing Redis', align: 'left' },
      { header: 'files only', align: 'right' },
      { header: 'with --redis', align: 'right' },
      { header: 'added', align: 'right' },
    ],
    [
      ['gate CPU per small GET, key with per-minute/hour limits', us(limited.files), us(limited.redis), added(limited)],
      ['  p50 latency (50 connections)', p50(limited.files), p50(limited.redis), ''],
      ['gate CPU per small GET, key without limits', us(unlimited.files), us(unlimited.redis), added(unlimited)],
      ['  p50 latency (50 connections)', p50(unlimited.files), p50(unlimited.redis), ''],
      ['revoke on gate 1 → WebSocket on gate 2 closed', '', ms(revocation.closeMs), ''],
      ['revoke on gate 1 → its API answered (after the acks)', '', ms(revocation.answerMs), ''],
    ]
  );
  process.stdout.write(`\n${table}\n`);
}
