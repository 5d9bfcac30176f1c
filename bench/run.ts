// `npm run bench`: the same loads against a fake ComfyUI directly and through the gate, one table of both.
// Not part of `npm test`: the numbers depend on the machine, so targets are reported, never enforced by exit code.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { request } from 'undici';
import { startFakeComfy, type FakeComfy } from '../test/fixtures/fakeComfy/index.js';
import { InspectorProfiler, inspectorUrlIn, summarizeProfile, type ProfileSummary } from './cpuProfile.js';
import { runCostPhase, type CostServer, type CostServers } from './costPhase.js';
import { fetchBody, measureLoad, runDownloadLoad, uploadImage, type MeasuredLoad } from './httpLoad.js';
import { measureCapInspection } from './capInspection.js';
import { measureFairOrder } from './fairOrderCost.js';
import { measureKeyVerify } from './keyVerify.js';
import { detectRequestLog, EventLoopProbe } from './metricsScrape.js';
import {
  clockTicksPerSecond,
  detectPinning,
  pinSelf,
  readCpuModel,
  readLoadAverage,
  readRssBytes,
  runToCompletion,
  sampleCpu,
  spawnServer,
  type ChildHandle,
  type CpuSample,
  type Pinning,
} from './processes.js';
import {
  checksOf,
  printReport,
  type BenchConfig,
  type BenchReport,
  type BenchTargets,
  type GateRun,
  type HttpSection,
  type Outcome,
  type RssSample,
  type SmallJsonSection,
  type UserFeel,
  NOT_RUN_WITH_PROFILE,
  type WsCase,
} from './report.js';
import { measureIdleWs, measurePromptMemory, type IdleWsCase, type PromptMemoryCase } from './memoryLoad.js';
import { measureWs } from './wsLoad.js';
import { frontendFiles, loadPage, pageLoadPaths, signIn } from './pageLoad.js';
import { measurePreviewLoad } from './previewLoad.js';
import { measurePageLoads } from './userFeel.js';
import { benchRedis, printRedisReport, type RedisBenchResult } from './redisCost.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const MIB = 1024 * 1024;

const CONFIG: BenchConfig = {
  smallJson: {
    path: '/prompt',
    expected: { exec_info: { queue_remaining: 0 } },
    connections: 50,
    warmupSec: 2,
    durationSec: 8,
  },
  view: { filename: 'bench.png', bytes: 5 * 1024 * 1024, connections: 4, warmupSec: 1, durationSec: 6 },
  ws: { path: '/ws?clientId=bench', messageBytes: 1024, warmupMs: 500, durationMs: 5_000 },
  limitedKey: { perMinute: 10_000_000, perHour: 10_000_000 },
  costs: {
    rounds: { rounds: 5, roundSec: 2, warmupSec: 2, connections: 50 },
    promptConnections: 8,
    profileSec: 4,
    profileDir: join(ROOT, 'bench', 'profiles'),
  },
  keyVerify: { warmupCalls: 50_000, calls: 200_000, rounds: 5 },
  capInspection: { warmupCalls: 20_000, calls: 100_000, rounds: 5 },
  fairOrder: { warmupCalls: 20_000, calls: 100_000, rounds: 5 },
  promptMemory: [
    { label: 'one 50 MiB body', bodies: 1, bodyBytes: 50 * MIB },
    { label: 'four 95 MiB bodies at once', bodies: 4, bodyBytes: 95 * MIB },
  ],
  idleWs: { sockets: 1_000, limitMs: 60_000 },
  pageLoad: { rounds: 5 },
  previews: {
    sockets: 1_000,
    watching: 50,
    previewBytes: 24 * 1024,
    perSecond: 10,
    durationMs: 5_000,
    limitMs: 60_000,
  },
  /** Everything above takes about five minutes on an idle machine; this only catches a hang. */
  overallLimitMs: 9 * 60_000,
};

const TARGETS: BenchTargets = {
  gateCpuUsPerRequest: 80,
  keyOverFloorUs: 10,
  keyVerifyUs: 5,
  capInspectionUs: 10,
  fairOrderUs: 10,
  smallJsonRpsRatio: 0.55,
  viewThroughputRatio: 0.3,
  wsMessagesRatio: 0.6,
  wsDeflateCpuRatio: 1.5,
  idleWsDeflateKiB: 64,
  promptPeakGrowthRatio: 2.5,
};

/** Async teardown steps, run newest first; a failing step is reported and does not stop the others. */
class Cleanup {
  readonly #steps: { name: string; run: () => Promise<unknown> }[] = [];

  add(name: string, run: () => Promise<unknown>): void {
    this.#steps.push({ name, run });
  }

  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (error) {
        process.stderr.write(`bench: cleanup of ${step.name} failed: ${messageOf(error)}\n`);
      }
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function attempt<T>(section: string, run: () => Promise<T>): Promise<Outcome<T>> {
  process.stderr.write(`bench: ${section}…\n`);
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    process.stderr.write(`bench: ${section} failed: ${messageOf(error)}\n`);
    return { ok: false, error: messageOf(error) };
  }
}

/** The gate must not pick up the operator's own settings (data dir, legacy key, log level) from this shell. */
function gateEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('COMFYGATE_')) env[name] = value;
  env['COMFYGATE_LOG_LEVEL'] = 'warn';
  return env;
}

type AuthMode = 'off' | 'required';

/** The gate child, its data dir, the headers each kind of client sends it, and a reading of its CPU and its core's. */
type GateProcess = ChildHandle & {
  /** The inspector's WebSocket URL when started for --profile. */
  inspectorUrl?: string;
  mode: AuthMode;
  dataDir: string;
  /** Headers for proxied requests: a creator key without limits under `required`, nothing under `off`. */
  auth: Record<string, string>;
  /** A creator key with CONFIG.limitedKey's limits. */
  limitedAuth: Record<string, string>;
  /** A creator key with share limits (CONFIG.sharedKey): the caps and the weight a prompt is checked against. */
  sharedAuth: Record<string, string>;
  /** An admin key, for `GET /gate/metrics`. */
  adminAuth: Record<string, string>;
  sampleCpu: () => CpuSample;
};

const CLI = join(ROOT, 'bin', 'comfygate.js');

/**
 * Share limits far above the bench's small prompt (64×64, no sampler), so every prompt is checked against them
 * and none refused: what a teammate's key with caps and a weight costs per prompt.
 */
const SHARED_KEY_FLAGS = [
  '--max-pixels',
  String(4096 * 4096),
  '--max-batch',
  '64',
  '--max-steps',
  '1000',
  '--max-frames',
  '10000',
  '--max-nodes',
  '1000',
  '--weight',
  '2',
];

/** `comfygate keys create … --json` against a data dir no gate runs on yet; resolves with the plaintext key. */
async function createKey(dataDir: string, name: string, extraArgs: readonly string[]): Promise<string> {
  const created = await runToCompletion(
    process.execPath,
    [CLI, 'keys', 'create', '--name', name, ...extraArgs, '--json', '--data-dir', dataDir],
    { cwd: ROOT, env: gateEnv() }
  );
  const parsed: unknown = JSON.parse(created);
  if (typeof parsed !== 'object' || parsed === null || !('key' in parsed) || typeof parsed.key !== 'string') {
    throw new Error(`keys create --json printed no key: ${created}`);
  }
  return parsed.key;
}

/**
 * The main gate is measured the way teammates use it: protection required and an API key on every request, so
 * the hot path includes credential parsing, key lookup, scope and limit checks, usage counting and request
 * logging. That key has no limits (the CLI default), so nothing is refused with 429 under load; a second key
 * with limits far above what the bench sends shows the limiter's cost. A gate in mode `off` is the baseline
 * for the cost of all that. Every gate also gets an admin key, so that it does not make one on first start
 * and so that the bench can read its metrics.
 */
async function startGate(
  upstream: string,
  mode: AuthMode,
  pinning: Pinning,
  cleanup: Cleanup,
  inspect = false,
  extraArgs: readonly string[] = []
): Promise<GateProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), `comfygate-bench-${mode}-`));
  cleanup.add(`data dir ${dataDir}`, () => rm(dataDir, { recursive: true, force: true }));
  const { perMinute, perHour } = CONFIG.limitedKey;
  // Concurrent CLI writers are safe: keys.json is updated under a lock.
  const [creatorKey, limitedKey, sharedKey, adminKey] = await Promise.all([
    createKey(dataDir, 'bench', ['--role', 'creator']),
    createKey(dataDir, 'bench-limited', [
      '--role',
      'creator',
      '--per-minute',
      String(perMinute),
      '--per-hour',
      String(perHour),
    ]),
    createKey(dataDir, 'bench-shared', ['--role', 'creator', ...SHARED_KEY_FLAGS]),
    createKey(dataDir, 'bench-admin', ['--role', 'admin']),
  ]);
  const cpu = pinning.enabled ? pinning.gateCpu : undefined;
  const gate = await spawnServer({
    name: `gate (--auth ${mode})`,
    command: process.execPath,
    // Port 0: each gate gets its own inspector port; the URL is read back from its stderr.
    args: [
      ...(inspect ? ['--inspect=127.0.0.1:0'] : []),
      CLI,
      'serve',
      '--auth',
      mode,
      '--upstream',
      upstream,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      ...extraArgs,
    ],
    cwd: ROOT,
    cpu,
    env: gateEnv(),
    ready: /^ComfyGate listening on (http:\/\/\S+)/m,
  });
  cleanup.add(`gate --auth ${mode} (pid ${gate.pid})`, () => gate.stop());
  return {
    ...gate,
    ...(inspect ? { inspectorUrl: inspectorUrlIn(gate.stderrTail()) } : {}),
    mode,
    dataDir,
    auth: mode === 'required' ? { 'x-api-key': creatorKey } : {},
    limitedAuth: { 'x-api-key': limitedKey },
    sharedAuth: { 'x-api-key': sharedKey },
    adminAuth: { 'x-api-key': adminKey },
    sampleCpu: () => sampleCpu(gate.pid, cpu),
  };
}

async function startFakeProcess(pinning: Pinning, cleanup: Cleanup, extraArgs: string[] = []): Promise<ChildHandle> {
  // `node --import tsx` rather than the tsx CLI: the CLI runs the script in a second node process, and one
  // process is simpler to pin and to stop.
  const fake = await spawnServer({
    name: 'fake ComfyUI',
    command: process.execPath,
    args: ['--import', 'tsx', join(ROOT, 'test', 'fixtures', 'fakeComfyMain.ts'), '--port', '0', ...extraArgs],
    cwd: ROOT,
    cpu: pinning.enabled ? pinning.loadCpu : undefined,
    ready: /fake ComfyUI listening on (http:\/\/\S+)/,
  });
  cleanup.add(`fake ComfyUI (pid ${fake.pid})`, () => fake.stop());
  return fake;
}

/**
 * The bare Node proxy (bench/referenceProxy.ts) in front of the same fake, pinned to the gate's core like a gate:
 * what any Node proxy costs there, so the gate's CPU can be read as that floor plus the gate's own work.
 */
async function startReferenceProxy(
  upstream: string,
  pinning: Pinning,
  cleanup: Cleanup,
  inspect: boolean
): Promise<ChildHandle & { inspectorUrl?: string }> {
  const proxy = await spawnServer({
    name: 'reference proxy',
    command: process.execPath,
    args: [
      ...(inspect ? ['--inspect=127.0.0.1:0'] : []),
      '--import',
      'tsx',
      join(ROOT, 'bench', 'referenceProxy.ts'),
      '--upstream',
      upstream,
    ],
    cwd: ROOT,
    cpu: pinning.enabled ? pinning.gateCpu : undefined,
    ready: /reference proxy listening on (http:\/\/\S+)/,
  });
  cleanup.add(`reference proxy (pid ${proxy.pid})`, () => proxy.stop());
  return inspect ? { ...proxy, inspectorUrl: inspectorUrlIn(proxy.stderrTail()) } : proxy;
}

async function expectBody(
  url: string,
  headers: Record<string, string>,
  check: (body: Buffer) => boolean,
  what: string
): Promise<void> {
  const { status, body } = await fetchBody(url, headers);
  if (status !== 200 || !check(body)) {
    throw new Error(`${url} answered ${status} without ${what}: ${body.subarray(0, 200).toString()}`);
  }
}

async function expectStatus(url: string, headers: Record<string, string>, status: number): Promise<void> {
  const answer = await fetchBody(url, headers);
  if (answer.status !== status) {
    throw new Error(`${url} answered ${answer.status}, expected ${status}: ${answer.body.subarray(0, 200).toString()}`);
  }
}

const isExpectedSmallJson = (body: Buffer): boolean =>
  isDeepStrictEqual(JSON.parse(body.toString()), CONFIG.smallJson.expected);

/** The small GET through `gate` with `headers`, and the gate's event-loop delay over the measured run. */
async function measureGateRun(gate: GateProcess, headers: Record<string, string>): Promise<GateRun> {
  const { path, expected, connections, warmupSec, durationSec } = CONFIG.smallJson;
  // Checked first: a gate answering 401 or 502 quickly would otherwise look like a fast gate.
  await expectBody(gate.url + path, headers, isExpectedSmallJson, JSON.stringify(expected));
  const probe = new EventLoopProbe(gate.url, gate.adminAuth);
  const load = await measureLoad({
    url: gate.url + path,
    headers,
    connections,
    warmupSec,
    durationSec,
    sampleCpu: gate.sampleCpu,
    beforeMeasured: probe.start,
    afterMeasured: probe.finish,
  });
  return { load, gateCpuUsPerRequest: cpuUsPerRequest(load), eventLoop: probe.outcome };
}

function cpuUsPerRequest(measured: MeasuredLoad): number {
  return ((measured.cpu?.processSeconds ?? Number.NaN) * 1e6) / measured.load.requests;
}

async function benchSmallJson(fakeUrl: string, gate: GateProcess): Promise<SmallJsonSection> {
  const { path, expected, connections, warmupSec, durationSec } = CONFIG.smallJson;
  await expectBody(fakeUrl + path, {}, isExpectedSmallJson, JSON.stringify(expected));
  // The comparison with mode off only means something if this gate really demands a key.
  await expectStatus(gate.url + path, {}, 401);
  const direct = await measureLoad({ url: fakeUrl + path, connections, warmupSec, durationSec });
  const viaGate = await measureGateRun(gate, gate.auth);
  const requestLog = await detectRequestLog(gate.dataDir).then(
    (value): Outcome<typeof value> => ({ ok: true, value }),
    (error: unknown): Outcome<never> => ({ ok: false, error: messageOf(error) })
  );
  return {
    direct,
    gate: viaGate.load,
    gateCpuUsPerRequest: viaGate.gateCpuUsPerRequest,
    eventLoop: viaGate.eventLoop,
    requestLog,
  };
}

async function benchView(fakeUrl: string, gate: GateProcess): Promise<HttpSection & { gateCpuMsPerDownload: number }> {
  const { filename, bytes, connections, warmupSec, durationSec } = CONFIG.view;
  // Random bytes behind a PNG signature: looks like an image to anything sniffing, and nothing can compress it.
  const content = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(bytes - 8)]);
  const stored = await uploadImage(gate.url, filename, content, gate.auth);
  const path = `/view?filename=${encodeURIComponent(stored)}&type=input`;
  await expectBody(fakeUrl + path, {}, (body) => body.equals(content), 'the upload');
  await expectBody(gate.url + path, gate.auth, (body) => body.equals(content), 'the upload');
  const direct = await measureLoad({ url: fakeUrl + path, connections, warmupSec, durationSec }, runDownloadLoad);
  const viaGate = await measureLoad(
    {
      url: gate.url + path,
      headers: gate.auth,
      connections,
      warmupSec,
      durationSec,
      sampleCpu: gate.sampleCpu,
    },
    runDownloadLoad
  );
  return {
    direct,
    gate: viaGate,
    gateCpuMsPerDownload: ((viaGate.cpu?.processSeconds ?? Number.NaN) * 1e3) / viaGate.load.requests,
  };
}

interface WsPhase {
  cases: WsCase[];
  rss: RssSample;
  stderr: string[];
}

/**
 * Both variants matter: the ComfyUI frontend offers permessage-deflate and aiohttp compresses every message, so
 * a browser gets compressed frames; scripts and plain clients get uncompressed ones, where the relay's own cost
 * is not hidden behind zlib.
 */
const WS_VARIANTS = [
  { label: 'deflate offered', offerCompression: true },
  { label: 'plain frames', offerCompression: false },
] as const;

/**
 * The WebSocket fake runs in this process so the bench can make it broadcast; it gets its own gate, because
 * the HTTP phase's gate points at the fake child process.
 */
async function benchWs(pinning: Pinning, cleanup: Cleanup): Promise<WsPhase> {
  const { path, messageBytes, warmupMs, durationMs } = CONFIG.ws;
  const fake = await startFakeComfy();
  cleanup.add('in-process fake ComfyUI', () => fake.close());
  const gate = await startGate(fake.url, 'required', pinning, cleanup);
  const rssBefore = readRssBytes(gate.pid);
  const toWs = (url: string): string => url.replace(/^http/, 'ws') + path;
  const cases: WsCase[] = [];
  for (const { label, offerCompression } of WS_VARIANTS) {
    const common = { fake, messageBytes, warmupMs, durationMs, offerCompression };
    const direct = await measureWs({ ...common, url: toWs(fake.url) });
    const viaGate = await measureWs({
      ...common,
      url: toWs(gate.url),
      headers: gate.auth,
      sampleCpu: gate.sampleCpu,
    });
    cases.push({
      label,
      offerCompression,
      direct,
      gate: viaGate,
      gateCpuUsPerMessage: ((viaGate.cpu?.processSeconds ?? Number.NaN) * 1e6) / viaGate.messages,
    });
  }
  return { cases, rss: { beforeBytes: rssBefore, afterBytes: readRssBytes(gate.pid) }, stderr: gate.stderrTail() };
}

/** Each large-prompt case against a fresh gate, so one case's garbage is not the next one's baseline. */
async function benchPromptMemory(pinning: Pinning, cleanup: Cleanup): Promise<PromptMemoryCase[]> {
  const phase = new Cleanup();
  cleanup.add('prompt memory phase', () => phase.run());
  const fake = await startFakeProcess(pinning, phase);
  const cases: PromptMemoryCase[] = [];
  for (const { label, bodies, bodyBytes } of CONFIG.promptMemory) {
    const gate = await startGate(fake.url, 'required', pinning, phase);
    cases.push(await measurePromptMemory(gate, label, bodies, bodyBytes));
    await gate.stop();
  }
  await phase.run();
  return cases;
}

/** Lifts the per-key WebSocket cap: the bench opens a whole team's sockets with one key. */
async function liftWsCap(gate: GateProcess): Promise<void> {
  const lifted = await request(`${gate.url}/gate/api/settings`, {
    method: 'PATCH',
    headers: { ...gate.adminAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ maxWebSocketsPerKey: null }),
  });
  await lifted.body.dump();
  if (lifted.statusCode !== 200) throw new Error(`lifting the WebSocket cap answered ${lifted.statusCode}`);
}

/**
 * A page load and a team's tabs against an in-process fake that serves a whole frontend, through a gate of
 * their own; the teammate signs in with the creator key as a browser does and carries the session cookie.
 */
async function benchUserFeel(pinning: Pinning, cleanup: Cleanup): Promise<UserFeel> {
  return withUserFeelGate(pinning, cleanup, false, async ({ fake, gate, cookie, files }) => {
    const pageLoad = await attempt('page load, direct vs gate', () =>
      measurePageLoads(
        { origin: fake.url, headers: {} },
        { origin: gate.url, headers: cookie, sampleCpu: gate.sampleCpu },
        files,
        CONFIG.pageLoad.rounds
      )
    );
    await liftWsCap(gate);
    const previews = await attempt(
      `${CONFIG.previews.sockets} WebSockets, previews to ${CONFIG.previews.watching}`,
      () => measurePreviewLoad(gate, fake, CONFIG.previews)
    );
    return { pageLoad, previews };
  });
}

/** --profile: a CPU profile of the gate over a few page loads. */
async function profilePageLoad(pinning: Pinning, cleanup: Cleanup): Promise<ProfileSummary> {
  return withUserFeelGate(pinning, cleanup, true, async ({ gate, cookie, files }) => {
    const paths = pageLoadPaths(files);
    await loadPage(gate.url, cookie, paths);
    const profiler = await InspectorProfiler.connect(gate.inspectorUrl ?? '');
    try {
      await profiler.start();
      let requests = 0;
      for (let i = 0; i < PROFILED_PAGE_LOADS; i++) requests += (await loadPage(gate.url, cookie, paths)).requests;
      const profile = await profiler.stop();
      await writeFile(join(CONFIG.costs.profileDir, 'page-load-gate.cpuprofile'), JSON.stringify(profile));
      return summarizeProfile("teammate's first page load: gate, session cookie", profile, requests);
    } finally {
      profiler.close();
    }
  });
}

const PROFILED_PAGE_LOADS = 5;

interface UserFeelSetup {
  fake: FakeComfy;
  gate: GateProcess;
  cookie: Record<string, string>;
  files: Record<string, Buffer>;
}

async function withUserFeelGate<T>(
  pinning: Pinning,
  cleanup: Cleanup,
  inspect: boolean,
  run: (setup: UserFeelSetup) => Promise<T>
): Promise<T> {
  const phase = new Cleanup();
  cleanup.add('user-feel phase', () => phase.run());
  const files = frontendFiles();
  const fake = await startFakeComfy({ webFiles: files });
  phase.add('in-process fake ComfyUI with a frontend', () => fake.close());
  const gate = await startGate(fake.url, 'required', pinning, phase, inspect);
  const cookie = await signIn(gate.url, gate.auth['x-api-key'] ?? '');
  const result = await run({ fake, gate, cookie, files });
  await phase.run();
  return result;
}

/** Each variant against a fresh gate with the per-key WebSocket cap lifted, since one key opens them all. */
async function benchIdleWs(pinning: Pinning, cleanup: Cleanup): Promise<IdleWsCase[]> {
  const phase = new Cleanup();
  cleanup.add('idle WebSocket phase', () => phase.run());
  const fake = await startFakeComfy();
  phase.add('in-process fake ComfyUI for idle WebSockets', () => fake.close());
  const cases: IdleWsCase[] = [];
  for (const { label, offerCompression } of WS_VARIANTS) {
    const gate = await startGate(fake.url, 'required', pinning, phase);
    await liftWsCap(gate);
    const { sockets, limitMs } = CONFIG.idleWs;
    cases.push(await measureIdleWs(gate, fake, label, sockets, offerCompression, limitMs));
    await gate.stop();
  }
  await phase.run();
  return cases;
}

/** The floor, the `--auth off` gate and the main gate as the cost phase reads them. */
function costServers(
  fakeUrl: string,
  floor: ChildHandle & { inspectorUrl?: string },
  offGate: GateProcess,
  gate: GateProcess,
  pinning: Pinning
): CostServers {
  const server = (handle: ChildHandle & { inspectorUrl?: string }, sample: () => CpuSample): CostServer => ({
    url: handle.url,
    sampleCpu: sample,
    ...(handle.inspectorUrl === undefined ? {} : { inspectorUrl: handle.inspectorUrl }),
  });
  return {
    floor: server(floor, () => sampleCpu(floor.pid, pinning.enabled ? pinning.gateCpu : undefined)),
    authOff: server(offGate, offGate.sampleCpu),
    gate: server(gate, gate.sampleCpu),
    fakeUrl,
    keys: { creator: gate.auth, limited: gate.limitedAuth, shared: gate.sharedAuth },
  };
}

/** What Node prints on stderr for --inspect and each profiler session: not the gate's own warnings. */
const INSPECTOR_CHATTER = /^(Debugger (listening|attached|ending)|For help, see: https:\/\/nodejs\.org)/;

const notRun: Outcome<never> = { ok: false, error: NOT_RUN_WITH_PROFILE };

/** Gates with and without `--redis` in front of one fake ComfyUI (see bench/redisCost.ts). */
async function benchSharedRedis(pinning: Pinning, cleanup: Cleanup): Promise<RedisBenchResult> {
  const phase = new Cleanup();
  cleanup.add('Redis phase', () => phase.run());
  const fake = await startFakeProcess(pinning, phase);
  const result = await benchRedis({
    startGate: (extraArgs) => startGate(fake.url, 'required', pinning, phase, false, extraArgs),
    measure: measureGateRun,
  });
  await phase.run();
  return result;
}

async function runAll(
  pinning: Pinning,
  cleanup: Cleanup,
  profile: boolean
): Promise<BenchReport & { redis: Outcome<RedisBenchResult> }> {
  const startedAt = new Date().toISOString();
  const loadAverageAtStart = readLoadAverage();
  const cpuModel = readCpuModel();
  // First, while no server shares this process's CPU.
  const keyVerify = profile
    ? notRun
    : await attempt('KeyStore.verify() micro-benchmark', () => measureKeyVerify(CONFIG.keyVerify));
  const capInspection = profile
    ? notRun
    : await attempt('generation caps check micro-benchmark', () =>
        Promise.resolve(measureCapInspection(CONFIG.capInspection))
      );
  const fairOrder = profile
    ? notRun
    : await attempt('fair order micro-benchmark', () => measureFairOrder(CONFIG.fairOrder));

  const httpCleanup = new Cleanup();
  cleanup.add('HTTP phase', () => httpCleanup.run());
  // No simulated node time: the prompts the cost phase queues finish at once instead of piling up.
  const fake = await startFakeProcess(pinning, httpCleanup, ['--node-delay-ms', '0']);
  const gate = await startGate(fake.url, 'required', pinning, httpCleanup, profile);
  // Started now and left idle on the gate's core until their runs, so the runs compared follow one another.
  const offGate = await startGate(fake.url, 'off', pinning, httpCleanup, profile);
  const referenceProxy = await startReferenceProxy(fake.url, pinning, httpCleanup, profile);
  printHeader(pinning, fake, gate, offGate, referenceProxy, loadAverageAtStart, cpuModel);

  const rssBefore = readRssBytes(gate.pid);
  const smallJson = profile
    ? notRun
    : await attempt('small JSON GET (--auth required + key)', () => benchSmallJson(fake.url, gate));
  const costs = await attempt('cost comparisons', () =>
    runCostPhase(costServers(fake.url, referenceProxy, offGate, gate, pinning), CONFIG.costs, profile)
  );
  const offStderr = offGate.stderrTail();
  await offGate.stop();
  await referenceProxy.stop();
  const view = profile ? notRun : await attempt('5 MiB /view download', () => benchView(fake.url, gate));
  const httpRss = { beforeBytes: rssBefore, afterBytes: readRssBytes(gate.pid) };
  const httpStderr = gate.stderrTail();
  // Stopped before the WebSocket phase so an idle fake child and gate do not share the CPUs it measures.
  await httpCleanup.run();

  const wsPhase = profile ? notRun : await attempt('WebSocket 1 KB messages', () => benchWs(pinning, cleanup));
  const ws: BenchReport['ws'] = wsPhase.ok ? { ok: true, value: wsPhase.value.cases } : wsPhase;

  const promptMemory = profile
    ? notRun
    : await attempt('POST /prompt memory (50 MiB, 4 × 95 MiB)', () => benchPromptMemory(pinning, cleanup));
  const idleWsMemory = profile
    ? notRun
    : await attempt(`${CONFIG.idleWs.sockets} idle WebSockets memory`, () => benchIdleWs(pinning, cleanup));

  const userFeel: UserFeel = profile
    ? { pageLoad: notRun, previews: notRun }
    : await benchUserFeel(pinning, cleanup).catch((error: unknown) => {
        const failed: Outcome<never> = { ok: false, error: messageOf(error) };
        return { pageLoad: failed, previews: failed };
      });

  if (profile && costs.ok) {
    const pageLoadProfile = await attempt('page load under the profiler', () => profilePageLoad(pinning, cleanup));
    if (pageLoadProfile.ok) costs.value.profiles.push(pageLoadProfile.value);
  }

  const redis = profile
    ? notRun
    : await attempt('Redis: added cost per request, revocation propagation', () => benchSharedRedis(pinning, cleanup));

  const measured = {
    smallJson,
    ...userFeel,
    costs,
    keyVerify,
    capInspection,
    fairOrder,
    view,
    ws,
    promptMemory,
    idleWsMemory,
  };
  return {
    startedAt,
    node: process.version,
    cpus: cpus().length,
    pinning,
    clockTicksPerSecond: clockTicksPerSecond(),
    config: CONFIG,
    targets: TARGETS,
    ...measured,
    gateRss: { http: httpRss, ws: wsPhase.ok ? wsPhase.value.rss : undefined },
    gateStderr: [...httpStderr, ...offStderr, ...(wsPhase.ok ? wsPhase.value.stderr : [])].filter(
      (line) => !INSPECTOR_CHATTER.test(line)
    ),
    loadAverageAtStart,
    cpuModel,
    checks: checksOf(TARGETS, measured),
    redis,
  };
}

function printHeader(
  pinning: Pinning,
  fake: ChildHandle,
  gate: ChildHandle,
  offGate: ChildHandle,
  referenceProxy: ChildHandle,
  loadAverage: number,
  cpuModel: string
): void {
  const { perMinute, perHour } = CONFIG.limitedKey;
  const lines = [
    `ComfyGate bench · node ${process.version} · ${cpus().length} CPUs (${cpuModel}) · ` +
      `CLK_TCK ${clockTicksPerSecond()} · load average ${loadAverage.toFixed(2)} before start`,
    `CPU: ${pinning.description}`,
    `fake ComfyUI (child process ${fake.pid}): ${fake.url}`,
    `gate --auth required (child process ${gate.pid}): ${gate.url} · ` +
      `gate --auth off (child process ${offGate.pid}): ${offGate.url}, stopped after its run`,
    `bare Node proxy, bench/referenceProxy.ts (child process ${referenceProxy.pid}): ${referenceProxy.url}, ` +
      `on the gate's CPU, stopped after its run`,
    `WebSocket phase: fake ComfyUI inside the bench process, a second --auth required gate in front of it`,
    `Gate rows: --auth required, every request carries a creator API key without limits (X-API-Key); ` +
      `variants: --auth off without a key, and a key limited to ${perMinute}/min and ${perHour}/h`,
  ];
  process.stdout.write(lines.join('\n') + '\n\n');
}

async function main(): Promise<number> {
  const pinning = detectPinning();
  pinSelf(pinning);
  const cleanup = new Cleanup();
  const abort = (why: string, code: number): void => {
    process.stderr.write(`bench: ${why}; stopping\n`);
    void cleanup.run().finally(() => process.exit(code));
  };
  const watchdog = setTimeout(
    () => abort(`no result after ${CONFIG.overallLimitMs / 1000} s`, 1),
    CONFIG.overallLimitMs
  );
  watchdog.unref();
  process.once('SIGINT', () => abort('interrupted', 130));
  try {
    const profile = process.argv.includes('--profile');
    const report = await runAll(pinning, cleanup, profile);
    const jsonPath = join(ROOT, 'bench', 'last-run.json');
    await writeFile(jsonPath, JSON.stringify(report, null, 2) + '\n');
    printReport(report, jsonPath);
    if (report.redis.ok) printRedisReport(report.redis.value);
    return 0;
  } catch (error) {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  } finally {
    await cleanup.run();
    clearTimeout(watchdog);
  }
}

// Explicit exit: a load-generator socket or timer left behind must not keep a finished bench alive.
process.exit(await main());
