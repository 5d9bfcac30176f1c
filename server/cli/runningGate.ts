import { processAlive, readRuntimeRecord, type RuntimeRecord } from '../runtime/runtimeRecord.js';
import { controlRequest } from './gateControl.js';

export type RunningGate =
  | { state: 'running'; record: RuntimeRecord }
  /** A record left by a gate that crashed or was killed. */
  | { state: 'stale'; record: RuntimeRecord }
  | { state: 'none' };

/** The gate that serves this data dir, from the runtime record it leaves there while it runs. */
export async function findRunningGate(dataDir: string): Promise<RunningGate> {
  const record = await readRuntimeRecord(dataDir);
  if (record === undefined) return { state: 'none' };
  return processAlive(record.pid) ? { state: 'running', record } : { state: 'stale', record };
}

/**
 * Asks the running gate to adopt what the CLI just wrote and waits for it, so the change is in
 * force before the command returns. Returns the sentence that tells the operator which gate
 * applied it, or that none runs.
 */
export async function applyToRunningGate(dataDir: string): Promise<string> {
  const found = await findRunningGate(dataDir);
  if (found.state === 'none') return `No gate is running for ${dataDir}; the change applies when one starts.`;
  const { record } = found;
  if (found.state === 'stale') {
    return `No gate is running for ${dataDir} (the one with pid ${record.pid} ended without cleaning up); the change applies when one starts.`;
  }
  try {
    // The file watcher is the fallback when the gate does not confirm in time.
    const response = await controlRequest(record, '/reload', { method: 'POST' });
    await response.body?.cancel();
    if (response.status === 204) return `Applied by the gate running at ${record.url} (pid ${record.pid}).`;
    return `The gate at ${record.url} (pid ${record.pid}) answered ${response.status}; it picks the change up from the file within a second.`;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `Could not reach the gate at ${record.url} (pid ${record.pid}: ${reason}); it picks the change up from the file within a second.`;
  }
}
