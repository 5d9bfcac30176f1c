// What one bench run found, how it is judged against the targets, and how it is printed.
import type { CostConfig, CostPhase } from './costPhase.js';
import { costChecks, renderCostTable, renderProfileTable, renderTopFunctions, type CostTargets } from './costReport.js';
import type { MeasuredLoad } from './httpLoad.js';
import type { CapInspectionCase } from './capInspection.js';
import type { KeyVerifyCase, KeyVerifyOptions } from './keyVerify.js';
import { LAG_SAMPLING_INTERVAL_MS, type EventLoopLag, type RequestLogState } from './metricsScrape.js';
import type { IdleWsCase, PromptMemoryCase } from './memoryLoad.js';
import type { CpuWindow, Pinning } from './processes.js';
import { formatMiB, formatNumber, formatRatio, formatSigned, renderTable, type Column } from './table.js';
import type { WsLoadResult } from './wsLoad.js';
import type { PreviewLoadOptions, PreviewLoadResult } from './previewLoad.js';
import { pageLoadRows, previewRows, type PageLoadSection } from './userFeel.js';

export interface BenchConfig {
  smallJson: { path: string; expected: unknown; connections: number; warmupSec: number; durationSec: number };
  view: { filename: string; bytes: number; connections: number; warmupSec: number; durationSec: number };
  ws: { path: string; messageBytes: number; warmupMs: number; durationMs: number };
  /** Limits of the key for the limiter run: high enough that nothing is refused, so only their cost shows. */
  limitedKey: { perMinute: number; perHour: number };
  /** The cost comparisons: alternating rounds, and POST /prompt's own connection count. */
  costs: CostConfig;
  keyVerify: KeyVerifyOptions;
  /** The generation-caps check of one small POST /prompt, timed like KeyStore.verify(). */
  capInspection: KeyVerifyOptions;
  /** The fair order of one small POST /prompt (its place and its admission), timed the same way. */
  fairOrder: KeyVerifyOptions;
  /** Large `POST /prompt` bodies, each case against a fresh gate: how many at once and how large. */
  promptMemory: { label: string; bodies: number; bodyBytes: number }[];
  /** Idle WebSockets held open through a fresh gate per variant; `limitMs` bounds each variant. */
  idleWs: { sockets: number; limitMs: number };
  /** A teammate's first page load, direct and through the gate, this many times each. */
  pageLoad: { rounds: number };
  previews: PreviewLoadOptions;
  overallLimitMs: number;
}

export interface BenchTargets extends CostTargets {
  /** The gate's own CPU per small JSON request, in µs. */
  gateCpuUsPerRequest: number;
  /** One KeyStore.verify() call, in µs. */
  keyVerifyUs: number;
  /** The generation-caps check of one small POST /prompt (its graph parsed and scanned), in µs. */
  capInspectionUs: number;
  /** The fair order of one small POST /prompt (fairOrderCheck, FairQueue.reserve, the admission), in µs. */
  fairOrderUs: number;
  /** The rest are gate/direct ratios that must be reached. */
  smallJsonRpsRatio: number;
  viewThroughputRatio: number;
  wsMessagesRatio: number;
  /** Gate CPU per WebSocket message to a client that negotiated permessage-deflate, as a multiple of plain frames'. */
  wsDeflateCpuRatio: number;
  /** What one idle WebSocket of a client that offered permessage-deflate may add to the gate's RSS, in KiB. */
  idleWsDeflateKiB: number;
  /** Peak RSS growth of the gate over one large prompt body, as a multiple of the body's size. */
  promptPeakGrowthRatio: number;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

/** The sections `--profile` leaves out: only the cost comparisons run, with their profiles. */
export const NOT_RUN_WITH_PROFILE = 'not run with --profile';

/** What a teammate feels: a page load, and many tabs with a few watching previews. */
export interface UserFeel {
  pageLoad: Outcome<PageLoadSection>;
  previews: Outcome<PreviewLoadResult>;
}

export interface HttpSection {
  direct: MeasuredLoad;
  gate: MeasuredLoad;
}

/** One measured small-GET run through a gate, with the gate's event-loop delay over the same window. */
export interface GateRun {
  load: MeasuredLoad;
  gateCpuUsPerRequest: number;
  eventLoop: Outcome<EventLoopLag>;
}

/** The main small-GET line: auth required, a creator key without limits. */
export type SmallJsonSection = HttpSection & {
  gateCpuUsPerRequest: number;
  eventLoop: Outcome<EventLoopLag>;
  /** What `<dataDir>/logs/` held right after the run. */
  requestLog: Outcome<RequestLogState>;
};

/** One WebSocket variant: the client offers permessage-deflate (as browsers do) or not. */
export interface WsCase {
  label: string;
  offerCompression: boolean;
  direct: WsLoadResult;
  gate: WsLoadResult;
  gateCpuUsPerMessage: number;
}

export interface RssSample {
  beforeBytes: number;
  afterBytes: number;
}

export interface Check {
  name: string;
  value: number;
  target: string;
  passed: boolean;
}

export interface BenchReport {
  startedAt: string;
  node: string;
  cpus: number;
  pinning: Pinning;
  clockTicksPerSecond: number;
  config: BenchConfig;
  targets: BenchTargets;
  smallJson: Outcome<SmallJsonSection>;
  /** Each path through the bare Node floor and the gate's configurations, in alternating rounds. */
  costs: Outcome<CostPhase>;
  /** KeyStore.verify() timed in the bench process, before any server starts. */
  keyVerify: Outcome<KeyVerifyCase[]>;
  /** The generation-caps check timed in the bench process, before any server starts. */
  capInspection: Outcome<CapInspectionCase[]>;
  /** The fair order timed in the bench process, before any server starts. */
  fairOrder: Outcome<CapInspectionCase[]>;
  view: Outcome<HttpSection & { gateCpuMsPerDownload: number }>;
  ws: Outcome<WsCase[]>;
  promptMemory: Outcome<PromptMemoryCase[]>;
  idleWsMemory: Outcome<IdleWsCase[]>;
  pageLoad: Outcome<PageLoadSection>;
  previews: Outcome<PreviewLoadResult>;
  gateRss: { http: RssSample | undefined; ws: RssSample | undefined };
  /** Last lines both gates wrote to stderr (warn level and above). */
  gateStderr: string[];
  /** 1-minute load average before the bench started anything: above ~0.5, others were competing for the CPUs. */
  loadAverageAtStart: number;
  /** `model name` from /proc/cpuinfo. */
  cpuModel: string;
  checks: Check[];
}

const MIB = 1024 * 1024;
const promptMemoryCheck = (label: string): string => `POST /prompt, ${label}: gate peak RSS growth`;
const keyVerifyCheck = (label: string): string => `KeyStore.verify(), ${label}`;
const capInspectionCheck = (label: string): string => `generation caps check, ${label}`;
const fairOrderCheck = (label: string): string => `fair order, ${label}`;
const WS_DEFLATE_CPU_CHECK = 'WebSocket gate CPU per message, deflate offered ÷ plain frames';
const idleWsCheck = (label: string): string => `idle WebSocket, ${label}: gate RSS per socket`;

/** What a browser's socket (deflate offered) costs the gate per message, as a multiple of a plain client's. */
export function wsDeflateCpuRatioOf(ws: Outcome<WsCase[]>): number {
  if (!ws.ok) return Number.NaN;
  const deflate = ws.value.find((c) => c.offerCompression);
  const plain = ws.value.find((c) => !c.offerCompression);
  return deflate && plain ? deflate.gateCpuUsPerMessage / plain.gateCpuUsPerMessage : Number.NaN;
}

function kibPerSocket({ afterBytes, beforeBytes, sockets }: IdleWsCase): number {
  return (afterBytes - beforeBytes) / sockets / 1024;
}

export function checksOf(
  targets: BenchTargets,
  report: Pick<
    BenchReport,
    | 'smallJson'
    | 'costs'
    | 'keyVerify'
    | 'capInspection'
    | 'fairOrder'
    | 'view'
    | 'ws'
    | 'promptMemory'
    | 'idleWsMemory'
  >
): Check[] {
  const { smallJson, view, ws } = report;
  const checks: Check[] = [];
  const atMost = (name: string, value: number, limit: number, unit: string): void => {
    checks.push({ name, value, target: `≤ ${limit} ${unit}`, passed: value <= limit });
  };
  const atLeast = (name: string, value: number, ratio: number): void => {
    checks.push({ name, value, target: `≥ ${ratio.toFixed(2)}× direct`, passed: value >= ratio });
  };
  if (smallJson.ok) {
    const { direct, gate, gateCpuUsPerRequest } = smallJson.value;
    atMost('small JSON: gate CPU per request', gateCpuUsPerRequest, targets.gateCpuUsPerRequest, 'µs');
    atLeast('small JSON: req/s', gate.load.requestsPerSec / direct.load.requestsPerSec, targets.smallJsonRpsRatio);
  }
  if (report.costs.ok) checks.push(...costChecks(report.costs.value, targets));
  if (report.keyVerify.ok) {
    for (const { label, usPerVerify } of report.keyVerify.value) {
      atMost(keyVerifyCheck(label), usPerVerify, targets.keyVerifyUs, 'µs');
    }
  }
  if (report.capInspection.ok) {
    for (const { label, usPerPrompt } of report.capInspection.value) {
      atMost(capInspectionCheck(label), usPerPrompt, targets.capInspectionUs, 'µs');
    }
  }
  if (report.fairOrder.ok) {
    for (const { label, usPerPrompt } of report.fairOrder.value) {
      atMost(fairOrderCheck(label), usPerPrompt, targets.fairOrderUs, 'µs');
    }
  }
  if (view.ok) {
    const { direct, gate } = view.value;
    atLeast('/view: throughput', gate.load.bytesPerSec / direct.load.bytesPerSec, targets.viewThroughputRatio);
  }
  if (ws.ok) {
    for (const wsCase of ws.value) {
      const ratio = wsCase.gate.messagesPerSec / wsCase.direct.messagesPerSec;
      atLeast(`WebSocket ${wsCase.label}: msg/s`, ratio, targets.wsMessagesRatio);
    }
  }
  const deflateRatio = wsDeflateCpuRatioOf(ws);
  if (Number.isFinite(deflateRatio)) {
    const limit = targets.wsDeflateCpuRatio;
    checks.push({
      name: WS_DEFLATE_CPU_CHECK,
      value: deflateRatio,
      target: `≤ ${limit}× plain`,
      passed: deflateRatio <= limit,
    });
  }
  if (report.idleWsMemory.ok) {
    for (const wsCase of report.idleWsMemory.value) {
      if (wsCase.offerCompression) {
        atMost(idleWsCheck(wsCase.label), kibPerSocket(wsCase), targets.idleWsDeflateKiB, 'KiB');
      }
    }
  }
  if (report.promptMemory.ok) {
    for (const memoryCase of report.promptMemory.value) {
      const growth = memoryCase.peakBytes - memoryCase.baselineBytes;
      const name = promptMemoryCheck(memoryCase.label);
      if (memoryCase.bodies === 1) {
        const ratio = growth / memoryCase.bodyBytes;
        const limit = targets.promptPeakGrowthRatio;
        checks.push({ name, value: ratio, target: `≤ ${limit}× the body`, passed: ratio <= limit });
      } else {
        const mib = growth / MIB;
        const limit = memoryCase.budgetBytes / MIB;
        checks.push({ name, value: mib, target: `≤ the ${limit} MiB budget`, passed: mib <= limit });
      }
    }
  }
  // A run with failed requests did not measure what it claims to, whatever its speed.
  const failed = (name: string, { errors, non2xx }: MeasuredLoad['load']): void => {
    if (errors + non2xx > 0) {
      checks.push({ name: `${name}: failed requests`, value: errors + non2xx, target: '0', passed: false });
    }
  };
  for (const [name, outcome] of [
    ['small JSON', smallJson],
    ['/view', view],
  ] as const) {
    if (!outcome.ok) continue;
    for (const side of ['direct', 'gate'] as const) failed(`${name} (${side})`, outcome.value[side].load);
  }
  return checks;
}

/** The gate's event-loop delay under the small GET, and KeyStore.verify() on its own. */
function variantRows(report: BenchReport): string[][] {
  const rows: string[][] = [];
  const { smallJson, targets } = report;
  if (smallJson.ok) {
    const { eventLoop, requestLog } = smallJson.value;
    const name = `gate event-loop delay p99 under GET /prompt load, ${loggingLabel(requestLog)}: ms`;
    rows.push(
      eventLoop.ok
        ? [name, '—', formatNumber(eventLoop.value.p99Ms, 2), '—', '', '']
        : [name, '', '', '', '', errorCell(eventLoop.error)]
    );
  }
  if (report.keyVerify.ok) {
    for (const { label, usPerVerify } of report.keyVerify.value) {
      rows.push([
        `KeyStore.verify() in the bench process, ${label}: µs`,
        '—',
        formatNumber(usPerVerify, 2),
        '—',
        `≤ ${targets.keyVerifyUs} µs`,
        verdict(report, keyVerifyCheck(label)),
      ]);
    }
  } else {
    rows.push(['KeyStore.verify() in the bench process', '', '', '', '', errorCell(report.keyVerify.error)]);
  }
  if (report.capInspection.ok) {
    for (const { label, usPerPrompt } of report.capInspection.value) {
      rows.push([
        `generation caps check in the bench process, ${label}: µs per prompt`,
        '—',
        formatNumber(usPerPrompt, 2),
        '—',
        `≤ ${targets.capInspectionUs} µs`,
        verdict(report, capInspectionCheck(label)),
      ]);
    }
  } else {
    rows.push(['generation caps check in the bench process', '', '', '', '', errorCell(report.capInspection.error)]);
  }
  if (report.fairOrder.ok) {
    for (const { label, usPerPrompt } of report.fairOrder.value) {
      rows.push([
        `fair order of a small POST /prompt in the bench process, ${label}: µs per prompt`,
        '—',
        formatNumber(usPerPrompt, 2),
        '—',
        `≤ ${targets.fairOrderUs} µs`,
        verdict(report, fairOrderCheck(label)),
      ]);
    }
  } else {
    rows.push(['fair order in the bench process', '', '', '', '', errorCell(report.fairOrder.error)]);
  }
  return rows;
}

function loggingLabel(requestLog: Outcome<RequestLogState>): string {
  if (!requestLog.ok) return 'logging unknown';
  return requestLog.value.on ? 'logging on' : 'logging off';
}

const COLUMNS: readonly Column[] = [
  { header: 'Measurement', align: 'left' },
  { header: 'Direct', align: 'right' },
  { header: 'Gate', align: 'right' },
  { header: 'Gate/Direct', align: 'right' },
  { header: 'Target', align: 'left' },
  { header: 'Result', align: 'left' },
];

function verdict(report: BenchReport, name: string): string {
  const check = report.checks.find((c) => c.name === name);
  if (!check) return '—';
  return check.passed ? 'PASS' : 'MISSED';
}

/** The full message went to stderr when it happened; the table keeps its first line short. */
function errorCell(error: string): string {
  const line = error.split('\n')[0] ?? '';
  return `ERROR: ${line.length > 90 ? line.slice(0, 89) + '…' : line}`;
}

function tableRows(report: BenchReport): string[][] {
  const rows: string[][] = [];
  const { smallJson, view, ws, gateRss, config, targets } = report;
  const sj = config.smallJson;
  const sjName = `GET /prompt (${sj.connections} conns, ${sj.durationSec} s)`;
  if (smallJson.ok) {
    const { direct, gate, gateCpuUsPerRequest } = smallJson.value;
    const d = direct.load;
    const g = gate.load;
    rows.push(
      [
        `${sjName}: req/s`,
        formatNumber(d.requestsPerSec),
        formatNumber(g.requestsPerSec),
        formatRatio(g.requestsPerSec / d.requestsPerSec, targets.smallJsonRpsRatio),
        `≥ ${targets.smallJsonRpsRatio.toFixed(2)}×`,
        verdict(report, 'small JSON: req/s'),
      ],
      [`${sjName}: p50 ms`, formatNumber(d.p50Ms, 2), formatNumber(g.p50Ms, 2), formatRatio(g.p50Ms / d.p50Ms), '', ''],
      [`${sjName}: p99 ms`, formatNumber(d.p99Ms, 2), formatNumber(g.p99Ms, 2), formatRatio(g.p99Ms / d.p99Ms), '', ''],
      [
        `${sjName}: gate CPU µs/req`,
        '—',
        formatNumber(gateCpuUsPerRequest, 1),
        '—',
        `≤ ${targets.gateCpuUsPerRequest} µs`,
        verdict(report, 'small JSON: gate CPU per request'),
      ]
    );
  } else {
    rows.push([sjName, '', '', '', '', errorCell(smallJson.error)]);
  }
  rows.push(...variantRows(report));

  const vw = config.view;
  const vwName = `GET /view ${formatMiB(vw.bytes)} (${vw.connections} conns, ${vw.durationSec} s)`;
  if (view.ok) {
    const { direct, gate, gateCpuMsPerDownload } = view.value;
    const mib = (bytesPerSec: number): number => bytesPerSec / 1024 / 1024;
    rows.push(
      [
        `${vwName}: MiB/s`,
        formatNumber(mib(direct.load.bytesPerSec), 1),
        formatNumber(mib(gate.load.bytesPerSec), 1),
        formatRatio(gate.load.bytesPerSec / direct.load.bytesPerSec, targets.viewThroughputRatio),
        `≥ ${targets.viewThroughputRatio.toFixed(2)}×`,
        verdict(report, '/view: throughput'),
      ],
      [`${vwName}: gate CPU ms/download`, '—', formatNumber(gateCpuMsPerDownload, 2), '—', '', '']
    );
  } else {
    rows.push([vwName, '', '', '', '', errorCell(view.error)]);
  }

  const ws1 = config.ws;
  const wsName = `WebSocket ${ws1.messageBytes} B text, upstream → client (${ws1.durationMs / 1000} s)`;
  if (ws.ok) {
    for (const { label, direct, gate, gateCpuUsPerMessage } of ws.value) {
      rows.push(
        [
          `${wsName}, ${label}: msg/s`,
          formatNumber(direct.messagesPerSec),
          formatNumber(gate.messagesPerSec),
          formatRatio(gate.messagesPerSec / direct.messagesPerSec, targets.wsMessagesRatio),
          `≥ ${targets.wsMessagesRatio.toFixed(2)}×`,
          verdict(report, `WebSocket ${label}: msg/s`),
        ],
        [`${wsName}, ${label}: gate CPU µs/msg`, '—', formatNumber(gateCpuUsPerMessage, 1), '—', '', '']
      );
    }
    rows.push([
      'WebSocket gate CPU per message, deflate offered ÷ plain frames',
      '—',
      '—',
      formatRatio(wsDeflateCpuRatioOf(ws), targets.wsDeflateCpuRatio),
      `≤ ${targets.wsDeflateCpuRatio}×`,
      verdict(report, WS_DEFLATE_CPU_CHECK),
    ]);
  } else {
    rows.push([wsName, '', '', '', '', errorCell(ws.error)]);
  }

  const rssRow = (phase: string, sample: RssSample | undefined): string[] => [
    `gate RSS before → after, ${phase}`,
    '—',
    sample ? `${formatMiB(sample.beforeBytes)} → ${formatMiB(sample.afterBytes)}` : '—',
    '—',
    '',
    '',
  ];
  rows.push(rssRow('HTTP phase', gateRss.http), rssRow('WebSocket phase', gateRss.ws));
  rows.push(...memoryRows(report));
  if (report.pageLoad.ok) rows.push(...pageLoadRows(report.pageLoad.value));
  else rows.push(["teammate's first page load", '', '', '', '', errorCell(report.pageLoad.error)]);
  if (report.previews.ok) rows.push(...previewRows(report.previews.value));
  else rows.push(['WebSockets with previews', '', '', '', '', errorCell(report.previews.error)]);

  for (const check of report.checks.filter((c) => c.name.includes('failed requests'))) {
    rows.push([check.name, '', formatNumber(check.value), '', check.target, 'MISSED']);
  }
  return rows;
}

/** Peak RSS over large prompt bodies, and what idle WebSockets hold, each against a fresh gate. */
function memoryRows(report: BenchReport): string[][] {
  const rows: string[][] = [];
  const { promptMemory, idleWsMemory, targets } = report;
  if (promptMemory.ok) {
    for (const memoryCase of promptMemory.value) {
      const growth = memoryCase.peakBytes - memoryCase.baselineBytes;
      const answers = Object.entries(memoryCase.statuses)
        .map(([status, count]) => `${count}× ${status}`)
        .join(', ');
      rows.push([
        `${promptMemoryCheck(memoryCase.label)} (${answers})`,
        '—',
        memoryCase.bodies === 1
          ? `+${formatMiB(growth)} (${formatNumber(growth / memoryCase.bodyBytes, 2)}× body)`
          : `+${formatMiB(growth)} (${formatNumber(growth / memoryCase.budgetBytes, 2)}× budget)`,
        '—',
        memoryCase.bodies === 1
          ? `≤ ${targets.promptPeakGrowthRatio}× body`
          : `≤ ${formatMiB(memoryCase.budgetBytes)} budget`,
        verdict(report, promptMemoryCheck(memoryCase.label)),
      ]);
    }
  } else {
    rows.push(['POST /prompt, large bodies: gate peak RSS growth', '', '', '', '', errorCell(promptMemory.error)]);
  }
  if (idleWsMemory.ok) {
    for (const wsCase of idleWsMemory.value) {
      const held = wsCase.afterBytes - wsCase.beforeBytes;
      rows.push([
        `${formatNumber(wsCase.sockets)} idle WebSockets, ${wsCase.label}: gate RSS`,
        '—',
        `+${formatMiB(held)} (${formatNumber(kibPerSocket(wsCase), 1)} KiB each)`,
        '—',
        wsCase.offerCompression ? `≤ ${targets.idleWsDeflateKiB} KiB each` : '',
        wsCase.offerCompression ? verdict(report, idleWsCheck(wsCase.label)) : '',
      ]);
    }
    const deflate = idleWsMemory.value.find((c) => c.offerCompression);
    const plain = idleWsMemory.value.find((c) => !c.offerCompression);
    if (deflate && plain) {
      rows.push([
        'idle WebSocket, deflate offered − plain frames: gate RSS per socket',
        '—',
        `${formatSigned(kibPerSocket(deflate) - kibPerSocket(plain), 1)} KiB`,
        '—',
        '',
        '',
      ]);
    }
  } else {
    rows.push(['idle WebSockets: gate RSS', '', '', '', '', errorCell(idleWsMemory.error)]);
  }
  return rows;
}

/** An idle machine sits near 0 before the bench starts anything; above this, something else was running. */
const NOISY_LOAD_AVERAGE = 0.5;
/** Share of the gate's core taken by other processes or the hypervisor above which its numbers are suspect. */
const NOISY_CORE_SHARE = 0.1;

interface GateWindow {
  name: string;
  durationSec: number;
  cpu: CpuWindow | undefined;
}

/** Every measured run through the gate, with what its pinned core did meanwhile. */
function gateWindows(report: BenchReport): GateWindow[] {
  const windows: GateWindow[] = [];
  if (report.smallJson.ok) {
    const { load, cpu } = report.smallJson.value.gate;
    windows.push({ name: 'GET /prompt', durationSec: load.durationSec, cpu });
  }
  if (report.view.ok) {
    const { load, cpu } = report.view.value.gate;
    windows.push({ name: 'GET /view', durationSec: load.durationSec, cpu });
  }
  if (report.ws.ok) {
    for (const { label, gate } of report.ws.value) {
      windows.push({ name: `WebSocket ${label}`, durationSec: gate.durationSec, cpu: gate.cpu });
    }
  }
  return windows;
}

/**
 * Pinning keeps our processes apart but does not keep others off the gate's core: say how much of it the gate
 * really had, since a gate that got half a core shows half the req/s.
 */
function coreShareNotes(report: BenchReport): string[] {
  if (!report.pinning.enabled) return [];
  const percent = (seconds: number, total: number): string => `${Math.round((seconds / total) * 100)}%`;
  const windows = gateWindows(report).filter((w) => w.cpu !== undefined);
  const parts = windows.map(({ name, durationSec, cpu }) =>
    cpu
      ? `${name} gate ${percent(cpu.processSeconds, durationSec)} / others ${percent(cpu.otherSeconds, durationSec)}` +
        ` / steal ${percent(cpu.stealSeconds, durationSec)}`
      : name
  );
  const notes = [`CPU ${report.pinning.gateCpu} during the gate and bare Node proxy runs: ${parts.join('; ')}.`];
  const noisy = windows.some(
    ({ durationSec, cpu }) => cpu && (cpu.otherSeconds + cpu.stealSeconds) / durationSec > NOISY_CORE_SHARE
  );
  if (noisy) {
    notes.push(
      `WARNING: other processes or the hypervisor took more than ${NOISY_CORE_SHARE * 100}% of the gate's core ` +
        'in at least one run: its req/s, msg/s and latencies there are understated (CPU µs per request much less so).'
    );
  }
  return notes;
}

/** The cost lines in words, and where the request log and event-loop numbers came from. */
function costNotes(report: BenchReport): string[] {
  const notes: string[] = [];
  const { smallJson, config } = report;
  const { rounds, roundSec, connections } = config.costs.rounds;
  notes.push(
    `Cost table: each comparison's rows measured in ${rounds} alternating rounds of ${roundSec} s (A, B, C, A, B, C, …; ` +
      `${connections} connections, POST /prompt ${config.costs.promptConnections}), median and min–max over the rounds. ` +
      'The floor is bench/referenceProxy.ts (node:http + an undici Pool, hop-by-hop headers dropped, body streamed, ' +
      'nothing else) on the gate\'s core: what any Node proxy pays here. "others on core" is the most CPU other ' +
      'processes took on that core in any round: a row whose rounds disagree was measured in a noisy spell.'
  );
  if (smallJson.ok) {
    const { requestLog, eventLoop } = smallJson.value;
    const logState = requestLog.ok
      ? requestLog.value.on
        ? `logging on: the gate's logs/ held ${requestLog.value.files.join(', ')} ` +
          `(${formatNumber(requestLog.value.bytes / 1024)} KiB) after the GET /prompt run`
        : "logging off: no requests* file in the gate's logs/ after the GET /prompt run"
      : `request log state unknown (${requestLog.error})`;
    const lag = eventLoop.ok
      ? `p50 ${formatNumber(eventLoop.value.p50Ms, 2)} / p90 ${formatNumber(eventLoop.value.p90Ms, 2)} / ` +
        `p99 ${formatNumber(eventLoop.value.p99Ms, 2)} / max ${formatNumber(eventLoop.value.maxMs, 2)} ms as ` +
        `scraped, which includes the ${LAG_SAMPLING_INTERVAL_MS} ms sampling interval (idle reads ~` +
        `${LAG_SAMPLING_INTERVAL_MS} ms), so the load delayed the loop by ~` +
        `${formatNumber(Math.max(0, eventLoop.value.p99Ms - LAG_SAMPLING_INTERVAL_MS), 1)} ms at p99`
      : 'not read';
    notes.push(
      `Event-loop delay from the gate's /gate/metrics (prom-client, reset by a scrape right before the measured ` +
        `GET /prompt run, read right after it): ${lag}; ${logState}.`
    );
  }
  if (report.keyVerify.ok) {
    const { calls } = report.keyVerify.value[0] ?? { calls: 0 };
    notes.push(
      `KeyStore.verify(): median of ${report.config.keyVerify.rounds} rounds, ${formatNumber(calls)} calls per case ` +
        `after ${formatNumber(report.config.keyVerify.warmupCalls)} warm-up calls, before any server was started ` +
        '(server sources run through tsx).'
    );
  }
  if (report.capInspection.ok) {
    const { calls } = report.capInspection.value[0] ?? { calls: 0 };
    notes.push(
      `Generation caps check: median of ${report.config.capInspection.rounds} rounds, ${formatNumber(calls)} ` +
        'checks of one small POST /prompt body per case (its members located once, before timing, as the gate does for ' +
        'every prompt), the graph within every cap.'
    );
  }
  if (report.fairOrder.ok) {
    const { calls } = report.fairOrder.value[0] ?? { calls: 0 };
    notes.push(
      `Fair order: median of ${report.config.fairOrder.rounds} rounds, ${formatNumber(calls)} small POST /prompt ` +
        "bodies per case through fairOrderCheck (the key's weight, FairQueue.reserve, the `number` edit) and the " +
        "admission of ComfyUI's 200, three keys taking turns and ten prompts queued at once."
    );
  }
  return notes;
}

function memoryNotes(report: BenchReport): string[] {
  const notes: string[] = [];
  if (report.promptMemory.ok) {
    const sources = new Set(report.promptMemory.value.map((c) => c.peakSource));
    notes.push(
      'Large prompts: a fresh gate (--auth required, creator key, team isolation on) per case; growth is its peak ' +
        `RSS (${[...sources].join(' / ')}) over its RSS right before the bodies were sent. Bodies past the budget ` +
        'are answered 503 before they are read.'
    );
  }
  if (report.idleWsMemory.ok) {
    const negotiated = report.idleWsMemory.value
      .map((c) => `${c.label}: permessage-deflate ${c.compressed ? 'negotiated' : 'not negotiated'}`)
      .join('; ');
    notes.push(
      'Idle WebSockets: a fresh gate per variant; each socket sent its feature flags (2 KB) and got one 4 KB ' +
        `message, as a ComfyUI tab does, then sat idle; RSS after minus before (${negotiated}).`
    );
  }
  return notes;
}

export function printReport(report: BenchReport, jsonPath: string): void {
  const notes: string[] = [];
  if (report.ws.ok) {
    for (const { label, direct, gate } of report.ws.value) {
      const negotiated = (result: WsLoadResult): string => (result.compressed ? 'negotiated' : 'not negotiated');
      notes.push(`WebSocket ${label}: permessage-deflate ${negotiated(direct)} direct, ${negotiated(gate)} via gate.`);
    }
  }
  notes.push('Gate/Direct above 1× on latency rows means the gate adds that much; CPU is utime+stime from /proc.');
  notes.push(...memoryNotes(report));
  notes.push(...costNotes(report));
  notes.push(...coreShareNotes(report));
  if (report.loadAverageAtStart > NOISY_LOAD_AVERAGE) {
    notes.push(
      `WARNING: the 1-minute load average was ${report.loadAverageAtStart.toFixed(2)} before the bench started: ` +
        'other processes competed for the CPUs, so these numbers are noisy. Rerun on an idle machine.'
    );
  }
  if (report.gateStderr.length > 0) {
    notes.push(
      `The gate wrote to stderr (last ${report.gateStderr.length} lines):`,
      ...report.gateStderr.map((l) => `  ${l}`)
    );
  }
  const missed = report.checks.filter((c) => !c.passed);
  const failedSections = [
    report.smallJson,
    report.costs,
    report.pageLoad,
    report.previews,
    report.keyVerify,
    report.capInspection,
    report.fairOrder,
    report.view,
    report.ws,
    report.promptMemory,
    report.idleWsMemory,
  ].filter((o) => !o.ok && o.error !== NOT_RUN_WITH_PROFILE).length;
  const summary =
    missed.length === 0 && failedSections === 0
      ? `All ${report.checks.length} targets met.`
      : `${missed.length} of ${report.checks.length} targets MISSED` +
        (failedSections > 0 ? `, ${failedSections} measurement(s) could not run` : '') +
        '.';
  const machine =
    `Machine: ${report.cpuModel} · ${report.cpus} CPUs · 1-minute load average ` +
    `${report.loadAverageAtStart.toFixed(2)} before the run.`;
  const costs = report.costs.ok
    ? costSections(report.costs.value)
    : [`Cost table: not measured (${report.costs.error}).`];
  process.stdout.write(
    [
      renderTable(COLUMNS, tableRows(report)),
      '',
      ...costs,
      machine,
      '',
      ...notes,
      summary,
      `Numbers written to ${jsonPath}`,
    ].join('\n') + '\n'
  );
}

function costSections(phase: CostPhase): string[] {
  const sections = [renderCostTable(phase), ''];
  if (phase.profiles.length > 0) {
    sections.push(renderProfileTable(phase.profiles), '', renderTopFunctions(phase.profiles), '');
  }
  return sections;
}
