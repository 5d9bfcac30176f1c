// `npm run bench -- --profile`: V8 CPU profiles of a gate child over exactly one measured window, taken through
// the inspector protocol (the child runs with `--inspect=127.0.0.1:0`), and the profile's self time grouped by
// the gate's own modules, so "where the time goes" reads as auth, scope, limits, … rather than as 3,000 frames.
import { WebSocket, type RawData } from 'ws';
import { z } from 'zod';

/** The part of a V8 `Profiler.Profile` this module reads (the rest is kept: it is saved as is). */
const profileSchema = z.looseObject({
  nodes: z.array(
    z.looseObject({
      id: z.number(),
      callFrame: z.looseObject({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
    })
  ),
  startTime: z.number(),
  endTime: z.number(),
  samples: z.array(z.number()).optional(),
  timeDeltas: z.array(z.number()).optional(),
});
export type V8Profile = z.infer<typeof profileSchema>;

const replySchema = z.object({
  id: z.number().optional(),
  result: z.unknown().optional(),
  error: z.object({ message: z.string() }).optional(),
});

/** The debugger URL a child started with `--inspect=127.0.0.1:0` prints on stderr. */
export function inspectorUrlIn(stderrLines: readonly string[]): string {
  for (const line of stderrLines) {
    const match = /Debugger listening on (ws:\/\/\S+)/.exec(line);
    if (match?.[1]) return match[1];
  }
  throw new Error('the gate printed no inspector URL (was it started with --inspect?)');
}

/** One inspector session on a child: `start()` before the measured window, `stop()` after it. */
export class InspectorProfiler {
  readonly #socket: WebSocket;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (data: RawData) => this.#onMessage(data));
  }

  static async connect(url: string): Promise<InspectorProfiler> {
    const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.on('error', () => undefined);
    const profiler = new InspectorProfiler(socket);
    await profiler.#call('Profiler.enable');
    // 100 µs: fine enough to see a step that costs a few µs per request over tens of thousands of requests.
    await profiler.#call('Profiler.setSamplingInterval', { interval: 100 });
    return profiler;
  }

  async start(): Promise<void> {
    await this.#call('Profiler.start');
  }

  async stop(): Promise<V8Profile> {
    const result = await this.#call('Profiler.stop');
    return z.object({ profile: profileSchema }).parse(result).profile;
  }

  close(): void {
    this.#socket.close();
  }

  #call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  #onMessage(data: RawData): void {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const message = replySchema.parse(JSON.parse(bytes.toString()));
    if (message.id === undefined) return;
    const waiter = this.#pending.get(message.id);
    if (!waiter) return;
    this.#pending.delete(message.id);
    if (message.error) waiter.reject(new Error(message.error.message));
    else waiter.resolve(message.result);
  }
}

/** The cost groups of the README's profile table, in the pipeline's order. */
export const COST_GROUPS = [
  'auth',
  'scope',
  'limits',
  'isolation',
  'usage',
  'metrics',
  'log',
  'forwarding',
  'pipeline',
  'other gate code',
  'undici',
  'other dependencies',
  'node internals',
  'GC',
] as const;
export type CostGroup = (typeof COST_GROUPS)[number];

/** server/<room>/ → group; rooms not listed are "other gate code". */
const ROOM_GROUPS: Record<string, CostGroup> = {
  auth: 'auth',
  keys: 'auth',
  policy: 'scope',
  limits: 'limits',
  isolation: 'isolation',
  usage: 'usage',
  metrics: 'metrics',
  logs: 'log',
  appLog: 'log',
  observe: 'log',
  proxy: 'forwarding',
  http: 'forwarding',
  pipeline: 'pipeline',
};

/** Which group a frame's self time belongs to, or undefined for idle time (the loop waiting on sockets). */
export function groupOf(url: string, functionName: string): CostGroup | undefined {
  if (functionName === '(idle)') return undefined;
  if (functionName === '(garbage collector)') return 'GC';
  if (url.includes('/bench/referenceProxy.ts')) return 'forwarding';
  // server/<room>/file.js, or a file of server/ itself (gate.ts: the composition's callbacks).
  const server = /\/server\/(?:([^/]+)\/)?[^/]+$/.exec(url);
  if (server && !url.includes('/node_modules/')) return ROOM_GROUPS[server[1] ?? ''] ?? 'other gate code';
  if (url.includes('/node_modules/undici/')) return 'undici';
  if (url.includes('/node_modules/')) return 'other dependencies';
  // node:internal frames, natives and "(program)" (V8 itself: parsing, IC misses, the embedder's C++).
  return 'node internals';
}

export interface FunctionCost {
  name: string;
  group: CostGroup;
  usPerRequest: number;
}

export interface ProfileSummary {
  label: string;
  requests: number;
  /** Busy (non-idle) profiled time per request, in µs. */
  busyUsPerRequest: number;
  /** Self time per group per request, in µs, in COST_GROUPS order (groups with none are left out). */
  groups: { group: CostGroup; usPerRequest: number }[];
  /** The most expensive functions by self time. */
  topFunctions: FunctionCost[];
}

const TOP_FUNCTIONS = 8;

/** Sums each sample's time delta onto its frame and that frame's group; divides by `requests`. */
export function summarizeProfile(label: string, profile: V8Profile, requests: number): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, FunctionCost>();
  const byGroup = new Map<CostGroup, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let busy = 0;
  for (let i = 0; i < samples.length; i++) {
    // A sample's delta is the time since the previous one, so it is charged to the frame sampled next.
    const frame = nodes.get(samples[i] ?? -1);
    const delta = deltas[i + 1] ?? 0;
    if (!frame) continue;
    const group = groupOf(frame.url, frame.functionName);
    if (group === undefined) continue;
    busy += delta;
    byGroup.set(group, (byGroup.get(group) ?? 0) + delta);
    const file = frame.url.replace(/^.*\/(server|node_modules)\//, '$1/');
    const name = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    const entry = byFunction.get(name) ?? { name, group, usPerRequest: 0 };
    entry.usPerRequest += delta;
    byFunction.set(name, entry);
  }
  const per = (us: number): number => (requests > 0 ? us / requests : Number.NaN);
  return {
    label,
    requests,
    busyUsPerRequest: per(busy),
    groups: COST_GROUPS.filter((group) => byGroup.has(group)).map((group) => ({
      group,
      usPerRequest: per(byGroup.get(group) ?? 0),
    })),
    topFunctions: [...byFunction.values()]
      .sort((a, b) => b.usPerRequest - a.usPerRequest)
      .slice(0, TOP_FUNCTIONS)
      .map((entry) => ({ ...entry, usPerRequest: per(entry.usPerRequest) })),
  };
}
