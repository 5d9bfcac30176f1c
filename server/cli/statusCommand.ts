import type { Command } from 'commander';
import type { ReplicaReport } from '../redis/replicaRegistry.js';
import { dataDirFlag, resolveDataDir } from './dataDirOption.js';
import { CliError } from './exitCodes.js';
import { addStateOptions, openSharedState } from './redisOption.js';
import { backendStatusSchema, type BackendStatus } from '../backends/backendStatus.js';
import type { RuntimeRecord } from '../runtime/runtimeRecord.js';
import { controlRequest } from './gateControl.js';
import { findRunningGate } from './runningGate.js';

interface StatusFlags {
  json?: boolean;
}

/** `comfygate status [--json]`: the running gate for this data dir, or that none runs. */
export function registerStatusCommand(program: Command): void {
  addStateOptions(program.command('status'))
    .description('show the gate running for this data dir, or that none runs, and the replicas sharing its Redis')
    .option('--json', 'print one JSON object')
    .action(async (flags: StatusFlags, command: Command) => {
      const dataDir = await resolveDataDir(dataDirFlag(command), process.env, { create: false });
      const found = await findRunningGate(dataDir);
      const backends = found.state === 'running' ? await backendsOf(found.record) : undefined;
      const replicas = await sharedReplicas(command, dataDir);
      if (flags.json) {
        const report =
          found.state === 'none'
            ? { running: false, dataDir }
            : {
                running: found.state === 'running',
                stale: found.state === 'stale',
                dataDir,
                url: found.record.url,
                shareUrl: found.record.shareUrl,
                pid: found.record.pid,
                version: found.record.version,
                startedAt: found.record.startedAt,
                ...(backends === undefined ? {} : { backends }),
              };
        const withReplicas =
          replicas === undefined
            ? report
            : typeof replicas === 'string'
              ? { ...report, replicasError: replicas }
              : { ...report, replicas };
        process.stdout.write(JSON.stringify(withReplicas, null, 2) + '\n');
        return;
      }
      if (replicas !== undefined) process.stdout.write(replicaLines(replicas));
      if (found.state === 'none') {
        process.stdout.write(`No gate is running for ${dataDir}.\n`);
        return;
      }
      const { record } = found;
      if (found.state === 'stale') {
        process.stdout.write(
          `No gate is running for ${dataDir}: the last one (pid ${record.pid}, started ${record.startedAt}) ended without cleaning up.\n`
        );
        return;
      }
      const rows: Array<[string, string]> = [
        ['Gate', record.url],
        ['Teammates open', record.shareUrl],
        ['Dashboard', `${record.url}/gate/`],
        ['PID', String(record.pid)],
        ['Version', record.version],
        ['Started', record.startedAt],
        ['Data dir', dataDir],
      ];
      for (const backend of backends ?? []) rows.push([`Backend ${backend.label}`, describeBackend(backend)]);
      const width = Math.max(...rows.map(([label]) => label.length));
      for (const [label, value] of rows) process.stdout.write(`${label.padEnd(width)}  ${value}\n`);
    });
}

/** The running gate's ComfyUI backends and their health; undefined when it did not say (an older gate). */
async function backendsOf(record: RuntimeRecord): Promise<BackendStatus[] | undefined> {
  try {
    const response = await controlRequest(record, '/backends', { method: 'GET' });
    if (response.status !== 200) {
      await response.body?.cancel();
      return undefined;
    }
    const parsed = backendStatusSchema.array().safeParse(await response.json());
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function describeBackend(backend: BackendStatus): string {
  if (!backend.reachable) return `${backend.url}  not reachable`;
  const devices = backend.devices.length > 0 ? `  ${backend.devices.join(', ')}` : '';
  return `${backend.url}  reachable, ${backend.running} running, ${backend.pending} waiting${devices}`;
}

/** The gate replicas registered in Redis, when this data dir's gates share one; a Redis that does not answer says so. */
async function sharedReplicas(command: Command, dataDir: string): Promise<ReplicaReport[] | string | undefined> {
  try {
    const shared = await openSharedState(command, dataDir);
    if (shared === undefined) return undefined;
    try {
      return await shared.replicas();
    } finally {
      await shared.close();
    }
  } catch (error) {
    if (error instanceof CliError) return error.message;
    throw error;
  }
}

function replicaLines(replicas: ReplicaReport[] | string): string {
  if (typeof replicas === 'string') return `Replicas: unknown (${replicas})\n`;
  if (replicas.length === 0) return 'Replicas: none registered in Redis\n';
  const live = replicas.filter((replica) => replica.live).length;
  const lines = replicas.map(
    (replica) =>
      `  ${replica.live ? 'live' : 'gone'}  ${replica.id}  ${replica.url}  ${replica.host} pid ${replica.pid}  since ${replica.startedAt}`
  );
  return [`Replicas sharing Redis: ${live} live of ${replicas.length}`, ...lines, ''].join('\n');
}
