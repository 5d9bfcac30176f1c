import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';

/** Which CPU each side of the benchmark runs on, or why nothing is pinned. */
export interface Pinning {
  enabled: boolean;
  gateCpu: number;
  loadCpu: number;
  /** One line for the printed header. */
  description: string;
}

/**
 * The gate gets CPU 0 to itself and everything else (fake ComfyUI, load generator, WebSocket client) shares
 * CPU 1, so the gate's cost shows up as its own core's work instead of stealing time from the load generator.
 * Without taskset or a second core the numbers are still printed, only noisier, and the header says so.
 */
export function detectPinning(): Pinning {
  const cpus = availableParallelism();
  const base = { gateCpu: 0, loadCpu: 1 };
  if (cpus < 2) return { ...base, enabled: false, description: `not pinned: only ${cpus} CPU available` };
  const probe = spawnSync('taskset', ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    return { ...base, enabled: false, description: 'not pinned: taskset (util-linux) not found' };
  }
  return {
    ...base,
    enabled: true,
    description: `pinned with taskset: gate on CPU ${base.gateCpu}; fake ComfyUI + load generator + bench on CPU ${base.loadCpu}`,
  };
}

/** Moves this process (all its threads; later ones inherit it) onto `cpu`. */
export function pinSelf(pinning: Pinning): void {
  if (!pinning.enabled) return;
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(pinning.loadCpu), String(process.pid)], {
    stdio: 'ignore',
  });
  if (result.status !== 0) throw new Error(`taskset could not pin the bench process to CPU ${pinning.loadCpu}`);
}

export interface ChildHandle {
  name: string;
  pid: number;
  /** The URL parsed from the child's "listening on" line. */
  url: string;
  /** Last lines the child wrote to stderr: shown when something goes wrong, not streamed (warn logs would flood). */
  stderrTail(): string[];
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed by a signal). */
  stop(graceMs?: number): Promise<number | null>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: readonly string[];
  /** Pin to this CPU with taskset; undefined runs unpinned. */
  cpu: number | undefined;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Matches the ready line on stdout; group 1 is the URL. */
  ready: RegExp;
  timeoutMs?: number;
}

const STDERR_TAIL_LINES = 20;

/**
 * Starts a server child and resolves once it prints its listening URL. `taskset -c N cmd` execs `cmd` in place,
 * so the returned pid is the server's own and /proc/<pid>/stat measures exactly its CPU.
 */
export function spawnServer(options: SpawnOptions): Promise<ChildHandle> {
  const [command, args] =
    options.cpu === undefined
      ? [options.command, [...options.args]]
      : ['taskset', ['-c', String(options.cpu), options.command, ...options.args]];
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  let partial = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    // Chunks end anywhere; keep the unfinished last line for the next one.
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  return new Promise<ChildHandle>((resolve, reject) => {
    let stdout = '';
    const fail = (message: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      const detail = tail.length > 0 ? `\n  ${options.name} stderr:\n    ${tail.join('\n    ')}` : '';
      reject(new Error(`${options.name}: ${message}${detail}`));
    };
    const timeoutMs = options.timeoutMs ?? 20_000;
    const timer = setTimeout(() => fail(`did not print its listening line within ${timeoutMs} ms`), timeoutMs);
    const onError = (error: Error): void => fail(`could not start (${error.message})`);
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(`exited before listening (code ${code}, signal ${signal})`);
    child.once('error', onError);
    child.once('exit', onEarlyExit);
    child.stdout.setEncoding('utf8');
    const onData = (chunk: string): void => {
      stdout += chunk;
      const match = options.ready.exec(stdout);
      if (!match?.[1] || child.pid === undefined) return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      child.off('error', onError);
      // A failed kill() later is reported through stop()'s timeout, not as an uncaught 'error' event.
      child.on('error', () => undefined);
      // Keep draining stdout so a chatty child never blocks on a full pipe.
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve(makeHandle(options.name, child, child.pid, match[1], tail, exited));
    };
    child.stdout.on('data', onData);
  });
}

function makeHandle(
  name: string,
  child: ChildProcess,
  pid: number,
  url: string,
  tail: string[],
  exited: Promise<number | null>
): ChildHandle {
  return {
    name,
    pid,
    url,
    stderrTail: () => [...tail],
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<null>((resolve) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(null);
        }, graceMs);
      });
      const code = await Promise.race([exited, killed.then(() => exited)]);
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs a short command to completion and resolves with its stdout; rejects with its stderr on failure. */
export function runToCompletion(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 30_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${[command, ...args].join(' ')} failed: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      }
    );
  });
}

let clockTicks: number | undefined;

/** Kernel clock ticks per second for /proc times; `getconf` is the portable way to ask, 100 is Linux's usual. */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      clockTicks = Number.isInteger(value) && value > 0 ? value : 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds the process has used so far (utime + stime from /proc/<pid>/stat). */
export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses, so split only after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the name start at field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc/${pid}/stat format`);
  return (utime + stime) / clockTicksPerSecond();
}

/** One reading of the gate's CPU time and of the CPU it is pinned to. */
export interface CpuSample {
  processSeconds: number;
  /** user + nice + system of the pinned CPU, every process on it; NaN when nothing is pinned. */
  cpuBusySeconds: number;
  /** Time the hypervisor ran someone else on the pinned CPU; NaN when nothing is pinned. */
  cpuStealSeconds: number;
}

/** What happened between two samples. */
export interface CpuWindow {
  processSeconds: number;
  /** CPU time other processes took on the gate's CPU: the gate could not use it, so its numbers suffer. */
  otherSeconds: number;
  stealSeconds: number;
}

export function sampleCpu(pid: number, cpu: number | undefined): CpuSample {
  const processSeconds = readCpuSeconds(pid);
  if (cpu === undefined) return { processSeconds, cpuBusySeconds: Number.NaN, cpuStealSeconds: Number.NaN };
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${cpu} `));
  // Columns: user nice system idle iowait irq softirq steal ...; irq and softirq are left out because loopback
  // traffic of the gate's own sockets is often accounted there rather than to the gate.
  const ticks = (line ?? '').split(/\s+/).slice(1).map(Number);
  const [user = Number.NaN, nice = Number.NaN, system = Number.NaN] = ticks;
  const steal = ticks[7] ?? Number.NaN;
  const hz = clockTicksPerSecond();
  return { processSeconds, cpuBusySeconds: (user + nice + system) / hz, cpuStealSeconds: steal / hz };
}

export function cpuWindow(before: CpuSample, after: CpuSample): CpuWindow {
  const processSeconds = after.processSeconds - before.processSeconds;
  const busy = after.cpuBusySeconds - before.cpuBusySeconds;
  return {
    processSeconds,
    // Tick rounding can make the difference slightly negative on an otherwise idle CPU.
    otherSeconds: Math.max(0, busy - processSeconds),
    stealSeconds: after.cpuStealSeconds - before.cpuStealSeconds,
  };
}

/** Resident set size in bytes (VmRSS from /proc/<pid>/status). */
export function readRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** The 1-minute load average (first field of /proc/loadavg): other work on the machine makes every number noisy. */
export function readLoadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** The CPU's marketing name (`model name` in /proc/cpuinfo), for telling runs on different machines apart. */
export function readCpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) return match[1].trim();
  } catch {
    // Not Linux, or /proc not mounted: os.cpus() below.
  }
  return cpus()[0]?.model.trim() || 'unknown';
}
