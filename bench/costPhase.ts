// The cost of a key, path by path: each comparison's rows (the bare Node floor, then gates with more and more of a
// key's work) measured in alternating rounds, and with --profile a CPU profile of each gate row.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { SMALL_PROMPT } from '../test/helpers/prompts.js';
import { InspectorProfiler, summarizeProfile, type ProfileSummary } from './cpuProfile.js';
import { runLoad } from './httpLoad.js';
import type { CpuSample } from './processes.js';
import { measureAlternating, type RoundTarget, type RoundsOptions, type RowResult } from './rounds.js';

/** A server a row goes through: its URL, its CPU, and (gates started for --profile) its inspector. */
export interface CostServer {
  url: string;
  sampleCpu: () => CpuSample;
  inspectorUrl?: string;
}

export interface CostServers {
  floor: CostServer;
  authOff: CostServer;
  gate: CostServer;
  /** The fake ComfyUI every server forwards to. */
  fakeUrl: string;
  /** Headers of the gate's keys: a creator key without limits, with rate limits, with share limits. */
  keys: { creator: Record<string, string>; limited: Record<string, string>; shared: Record<string, string> };
}

export interface CostConfig {
  rounds: RoundsOptions;
  /** POST /prompt queues real (fake) work: fewer connections, so the fake's queue stays short. */
  promptConnections: number;
  /** Seconds of load per gate row under the profiler. */
  profileSec: number;
  /** Where each raw profile is saved (`.cpuprofile`: open it in Chrome DevTools' Performance panel). */
  profileDir: string;
}

export interface CostComparison {
  title: string;
  rows: RowResult[];
}

export interface CostPhase {
  comparisons: CostComparison[];
  profiles: ProfileSummary[];
}

interface Comparison {
  title: string;
  connections: number;
  targets: (RoundTarget & { server: CostServer })[];
}

const PROMPT_BODY = JSON.stringify({ client_id: 'bench', prompt: SMALL_PROMPT });
const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * Empties the fake's queue: it runs far fewer prompts a second than the POST /prompt rows queue, and a row must not
 * pay for the queue an earlier row left (the gate reads ComfyUI's queue for the fair order and the GPU meter).
 */
async function clearQueue(fakeUrl: string): Promise<void> {
  const res = await request(`${fakeUrl}/queue`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({ clear: true }),
  });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`clearing the fake's queue answered ${res.statusCode}`);
}

function comparisons(servers: CostServers, config: CostConfig): Comparison[] {
  const { floor, authOff, gate, keys, fakeUrl } = servers;
  const row = (
    label: string,
    server: CostServer,
    path: string,
    headers: Record<string, string> = {},
    post = false
  ): Comparison['targets'][number] => ({
    label,
    server,
    url: server.url + path,
    headers: post ? { ...headers, ...JSON_HEADERS } : headers,
    sampleCpu: server.sampleCpu,
    ...(post ? { method: 'POST' as const, body: PROMPT_BODY, before: () => clearQueue(fakeUrl) } : {}),
  });
  const connections = config.rounds.connections;
  return [
    {
      title: 'small GET /prompt',
      connections,
      targets: [
        row('bare Node proxy (floor)', floor, '/prompt'),
        row('gate --auth off, no key', authOff, '/prompt'),
        row('gate, creator key', gate, '/prompt', keys.creator),
        row('gate, key with per-minute + per-hour limits', gate, '/prompt', keys.limited),
      ],
    },
    {
      title: 'GET /system_stats (isolation filters it)',
      connections,
      targets: [
        row('bare Node proxy (floor)', floor, '/system_stats'),
        row('gate, creator key', gate, '/system_stats', keys.creator),
      ],
    },
    {
      title: 'GET /queue (isolation filters it)',
      connections,
      targets: [
        row('bare Node proxy (floor)', floor, '/queue'),
        row('gate, creator key', gate, '/queue', keys.creator),
      ],
    },
    // Last: every prompt it queues stays in the fake's history, which the rows above must not read.
    {
      title: 'small POST /prompt',
      connections: config.promptConnections,
      targets: [
        row('bare Node proxy (floor)', floor, '/prompt', {}, true),
        row('gate, creator key', gate, '/prompt', keys.creator, true),
        row('gate, creator key with share limits', gate, '/prompt', keys.shared, true),
      ],
    },
  ];
}

/** A row answering 401 or 502 quickly would look like a cheap row: each must answer 200 before it is measured. */
async function expectOk(target: RoundTarget): Promise<void> {
  const res = await request(target.url, {
    method: target.method ?? 'GET',
    headers: target.headers,
    body: target.body,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) {
    throw new Error(`${target.label}: ${target.url} answered ${res.statusCode}: ${text.slice(0, 200)}`);
  }
}

function fileNameOf(label: string): string {
  return (
    label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') + '.cpuprofile'
  );
}

async function profileTarget(
  title: string,
  target: Comparison['targets'][number],
  connections: number,
  config: CostConfig
): Promise<ProfileSummary | undefined> {
  const { inspectorUrl } = target.server;
  if (inspectorUrl === undefined) return undefined;
  const profiler = await InspectorProfiler.connect(inspectorUrl);
  try {
    await target.before?.();
    await profiler.start();
    const load = await runLoad({ ...target, connections, durationSec: config.profileSec });
    const label = `${title}: ${target.label}`;
    const profile = await profiler.stop();
    await mkdir(config.profileDir, { recursive: true });
    await writeFile(join(config.profileDir, fileNameOf(label)), JSON.stringify(profile));
    return summarizeProfile(label, profile, load.requests);
  } finally {
    profiler.close();
  }
}

export async function runCostPhase(servers: CostServers, config: CostConfig, profile: boolean): Promise<CostPhase> {
  const result: CostPhase = { comparisons: [], profiles: [] };
  for (const comparison of comparisons(servers, config)) {
    process.stderr.write(`bench: ${comparison.title} in alternating rounds…\n`);
    for (const target of comparison.targets) await expectOk(target);
    const rounds = { ...config.rounds, connections: comparison.connections };
    result.comparisons.push({
      title: comparison.title,
      rows: await measureAlternating(comparison.targets, rounds),
    });
    if (!profile) continue;
    for (const target of comparison.targets) {
      const summary = await profileTarget(comparison.title, target, comparison.connections, config);
      if (summary) result.profiles.push(summary);
    }
  }
  return result;
}
