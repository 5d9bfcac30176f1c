// What one bench run found, how it is judged against the targets, and how it is printed.
import type { MeasuredLoad } from './httpLoad.js';
import type { CpuWindow, Pinning } from './processes.js';
import { formatMiB, formatNumber, formatRatio, renderTable, type Column } from './table.js';
import type { WsLoadResult } from './wsLoad.js';

export interface BenchConfig {
  smallJson: { path: string; expected: unknown; connections: number; warmupSec: number; durationSec: number };
  view: { filename: string; bytes: number; connections: number; warmupSec: number; durationSec: number };
  ws: { path: string; messageBytes: number; warmupMs: number; durationMs: number };
  overallLimitMs: number;
}

export interface BenchTargets {
  /** The gate's own CPU per small JSON request, in µs. */
  gateCpuUsPerRequest: number;
  /** The rest are gate/direct ratios that must be reached. */
  smallJsonRpsRatio: number;
  viewThroughputRatio: number;
  wsMessagesRatio: number;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

export interface HttpSection {
  direct: MeasuredLoad;
  gate: MeasuredLoad;
}

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
  smallJson: Outcome<HttpSection & { gateCpuUsPerRequest: number }>;
  view: Outcome<HttpSection & { gateCpuMsPerDownload: number }>;
  ws: Outcome<WsCase[]>;
  gateRss: { http: RssSample | undefined; ws: RssSample | undefined };
  /** Last lines both gates wrote to stderr (warn level and above). */
  gateStderr: string[];
  /** 1-minute load average before the bench started anything: above ~0.5, others were competing for the CPUs. */
  loadAverageAtStart: number;
  checks: Check[];
}

export function checksOf(
  targets: BenchTargets,
  smallJson: BenchReport['smallJson'],
  view: BenchReport['view'],
  ws: BenchReport['ws']
): Check[] {
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
  // A run with failed requests did not measure what it claims to, whatever its speed.
  for (const [name, outcome] of [
    ['small JSON', smallJson],
    ['/view', view],
  ] as const) {
    if (!outcome.ok) continue;
    for (const side of ['direct', 'gate'] as const) {
      const { errors, non2xx } = outcome.value[side].load;
      if (errors + non2xx > 0) {
        checks.push({ name: `${name}: failed requests (${side})`, value: errors + non2xx, target: '0', passed: false });
      }
    }
  }
  return checks;
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

  for (const check of report.checks.filter((c) => c.name.includes('failed requests'))) {
    rows.push([check.name, '', formatNumber(check.value), '', check.target, 'MISSED']);
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
  const notes = [`CPU ${report.pinning.gateCpu} during the gate runs: ${parts.join('; ')}.`];
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

export function printReport(report: BenchReport, jsonPath: string): void {
  const notes: string[] = [];
  if (report.ws.ok) {
    for (const { label, direct, gate } of report.ws.value) {
      const negotiated = (result: WsLoadResult): string => (result.compressed ? 'negotiated' : 'not negotiated');
      notes.push(`WebSocket ${label}: permessage-deflate ${negotiated(direct)} direct, ${negotiated(gate)} via gate.`);
    }
  }
  notes.push('Gate/Direct above 1× on latency rows means the gate adds that much; CPU is utime+stime from /proc.');
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
  const failedSections = [report.smallJson, report.view, report.ws].filter((o) => !o.ok).length;
  const summary =
    missed.length === 0 && failedSections === 0
      ? `All ${report.checks.length} targets met.`
      : `${missed.length} of ${report.checks.length} targets MISSED` +
        (failedSections > 0 ? `, ${failedSections} measurement(s) could not run` : '') +
        '.';
  process.stdout.write(
    [renderTable(COLUMNS, tableRows(report)), '', ...notes, summary, `Numbers written to ${jsonPath}`].join('\n') + '\n'
  );
}
