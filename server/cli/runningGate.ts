import { processAlive, readRuntimeRecord, type RuntimeRecord } from '../runtime/runtimeRecord.js';

export type RunningGate =
  | { state: 'running'; record: RuntimeRecord }
  /** A record left by a gate that crashed or was killed. */
  | { state: 'stale'; record: RuntimeRecord }
  | { state: 'none' };

/** How long the CLI waits for the running gate to confirm a change; the file watcher is the fallback. */
const APPLY_TIMEOUT_MS = 5_000;

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
    const response = await fetch(`${record.url}/gate/api/runtime/reload`, {
      method: 'POST',
      headers: { 'x-comfygate-control': record.controlToken },
      signal: AbortSignal.timeout(APPLY_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (response.status === 204) return `Applied by the gate running at ${record.url} (pid ${record.pid}).`;
    return `The gate at ${record.url} (pid ${record.pid}) answered ${response.status}; it picks the change up from the file within a second.`;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `Could not reach the gate at ${record.url} (pid ${record.pid}: ${reason}); it picks the change up from the file within a second.`;
  }
}
