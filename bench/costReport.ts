// How the cost phase is judged and printed: one table of every comparison's rows (median and min–max over the
// alternating rounds, and the difference to the floor), and with --profile one table of the top costs per path.
import type { ProfileSummary } from './cpuProfile.js';
import type { CostComparison, CostPhase } from './costPhase.js';
import type { Spread } from './rounds.js';
import { formatNumber, formatSigned, renderTable, type Column } from './table.js';

export interface CostTargets {
  /** A key's rows at most this far above the bare Node floor of the same comparison, in µs per request. */
  keyOverFloorUs: number;
}

export interface CostCheck {
  name: string;
  value: number;
  target: string;
  passed: boolean;
}

const FLOOR_PREFIX = 'bare Node proxy';
const AUTH_OFF_PREFIX = 'gate --auth off';
const CREATOR_LABEL = 'gate, creator key';

function floorOf(comparison: CostComparison): number {
  return comparison.rows.find((row) => row.label.startsWith(FLOOR_PREFIX))?.cpuUsPerRequest.median ?? Number.NaN;
}

/** Every gate row with a key against its comparison's floor; `--auth off` against the creator key. */
export function costChecks(phase: CostPhase, targets: CostTargets): CostCheck[] {
  const checks: CostCheck[] = [];
  for (const comparison of phase.comparisons) {
    const floor = floorOf(comparison);
    for (const row of comparison.rows) {
      if (row.failed > 0) {
        const name = `${comparison.title}, ${row.label}: failed requests`;
        checks.push({ name, value: row.failed, target: '0', passed: false });
      }
      if (row.label.startsWith(FLOOR_PREFIX) || row.label.startsWith(AUTH_OFF_PREFIX)) continue;
      const over = row.cpuUsPerRequest.median - floor;
      checks.push({
        name: `${comparison.title}, ${row.label}: CPU over the floor`,
        value: over,
        target: `≤ +${targets.keyOverFloorUs} µs`,
        passed: over <= targets.keyOverFloorUs,
      });
    }
    const off = comparison.rows.find((row) => row.label.startsWith(AUTH_OFF_PREFIX));
    const creator = comparison.rows.find((row) => row.label === CREATOR_LABEL);
    if (off && creator) {
      const difference = off.cpuUsPerRequest.median - creator.cpuUsPerRequest.median;
      checks.push({
        name: `${comparison.title}: --auth off over the creator key`,
        value: difference,
        target: '≤ +0 µs',
        // Within one tick-rounding step of a round counts as equal: /proc CPU time moves in 10 ms steps.
        passed: difference <= 0.5,
      });
    }
  }
  return checks;
}

const COST_COLUMNS: readonly Column[] = [
  { header: 'path · through', align: 'left' },
  { header: 'CPU µs/req median (min–max)', align: 'right' },
  { header: 'over floor', align: 'right' },
  { header: 'req/s median (min–max)', align: 'right' },
  { header: 'p50 ms', align: 'right' },
  { header: 'others on core', align: 'right' },
];

function spreadCell(spread: Spread, decimals: number): string {
  return `${formatNumber(spread.median, decimals)} (${formatNumber(spread.min, decimals)}–${formatNumber(spread.max, decimals)})`;
}

export function renderCostTable(phase: CostPhase): string {
  const rows: string[][] = [];
  for (const comparison of phase.comparisons) {
    const floor = floorOf(comparison);
    for (const row of comparison.rows) {
      const isFloor = row.label.startsWith(FLOOR_PREFIX);
      rows.push([
        `${comparison.title} · ${row.label}${row.failed > 0 ? ` (${formatNumber(row.failed)} FAILED)` : ''}`,
        spreadCell(row.cpuUsPerRequest, 1),
        isFloor ? '—' : formatSigned(row.cpuUsPerRequest.median - floor, 1),
        spreadCell(row.requestsPerSec, 0),
        formatNumber(row.p50Ms.median, 2),
        `${formatNumber(row.otherCpuShare.max * 100, 0)}%`,
      ]);
    }
  }
  return renderTable(COST_COLUMNS, rows);
}

const PROFILE_COLUMNS: readonly Column[] = [
  { header: 'path · through', align: 'left' },
  { header: 'busy µs/req', align: 'right' },
  { header: 'top costs, µs/req (self time)', align: 'left' },
];

/** Groups of at least this share of a path's busy time are named; the rest would be noise in a summary. */
const SHOWN_SHARE = 0.02;

export function renderProfileTable(profiles: readonly ProfileSummary[]): string {
  const rows = profiles.map((profile) => {
    const shown = profile.groups
      .filter((g) => g.usPerRequest >= profile.busyUsPerRequest * SHOWN_SHARE)
      .sort((a, b) => b.usPerRequest - a.usPerRequest)
      .map((g) => `${g.group} ${formatNumber(g.usPerRequest, 1)}`);
    return [profile.label, formatNumber(profile.busyUsPerRequest, 1), shown.join(' · ')];
  });
  return renderTable(PROFILE_COLUMNS, rows);
}

/** The most expensive functions of each profiled path, for finding what to make cheaper next. */
export function renderTopFunctions(profiles: readonly ProfileSummary[]): string {
  const lines: string[] = [];
  for (const profile of profiles) {
    lines.push(`${profile.label} (${formatNumber(profile.requests)} requests profiled):`);
    for (const fn of profile.topFunctions) {
      lines.push(`  ${formatNumber(fn.usPerRequest, 2).padStart(6)} µs/req  [${fn.group}] ${fn.name}`);
    }
  }
  return lines.join('\n');
}
