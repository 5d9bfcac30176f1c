import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = fileURLToPath(new URL('../../server/cli/main.ts', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source (tsx), so tests never exercise a stale build. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: ROOT,
    env: { ...process.env, COMFYGATE_LOG_LEVEL: 'warn', ...env },
  });
  outputs.set(child, '');
  child.stdout.on('data', (chunk: Buffer) => outputs.set(child, (outputs.get(child) ?? '') + chunk.toString()));
  return child;
}

/** Everything each spawned CLI printed so far, so a later wait still sees earlier lines. */
const outputs = new WeakMap<ChildProcessWithoutNullStreams, string>();

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Resolves with the first stdout line matching `pattern`. */
export function waitForLine(
  child: ChildProcessWithoutNullStreams,
  pattern: RegExp,
  timeoutMs = 15_000
): Promise<string> {
  return new Promise((resolve, reject) => {
    const find = () => (outputs.get(child) ?? '').split('\n').find((l) => pattern.test(l));
    const timer = setTimeout(() => {
      child.stdout.off('data', check);
      reject(new Error(`no line matching ${pattern} in: ${outputs.get(child) ?? ''}`));
    }, timeoutMs);
    function check(): void {
      const line = find();
      if (line === undefined) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve(line);
    }
    child.stdout.on('data', check);
    check();
  });
}

/**
 * Signals a child and resolves once it has exited, so its data dir can be removed without racing
 * the files it flushes on shutdown. A child that ignores the signal is killed after `graceMs`.
 */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}
