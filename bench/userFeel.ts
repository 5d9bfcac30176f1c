// What a teammate feels: a first page load of the ComfyUI frontend through the gate against the same load direct
// (alternating rounds), and a team's worth of open tabs with a few watching previews. Rows for the bench table.
import { loadPage, pageLoadPaths, statusMismatches, type PageLoad } from './pageLoad.js';
import { cpuWindow, type CpuSample } from './processes.js';
import type { PreviewLoadResult } from './previewLoad.js';
import { spreadOf, type Spread } from './rounds.js';
import { formatMiB, formatNumber, formatRatio } from './table.js';

export interface PageLoadSection {
  requests: number;
  bytes: number;
  rounds: number;
  directMs: Spread;
  gateMs: Spread;
  /** The gate's CPU per page load, in ms. */
  gateCpuMs: Spread;
  /** Paths whose status through the gate differed from direct (first round). */
  mismatches: string[];
}

export interface PageLoadTarget {
  origin: string;
  headers: Record<string, string>;
}

/** Direct, gate, direct, gate, …: `rounds` page loads each, after one unmeasured load of each. */
export async function measurePageLoads(
  direct: PageLoadTarget,
  gate: PageLoadTarget & { sampleCpu: () => CpuSample },
  files: Record<string, Buffer>,
  rounds: number
): Promise<PageLoadSection> {
  const paths = pageLoadPaths(files);
  const directWarm = await loadPage(direct.origin, direct.headers, paths);
  const gateWarm = await loadPage(gate.origin, gate.headers, paths);
  const directMs: number[] = [];
  const gateMs: number[] = [];
  const gateCpuMs: number[] = [];
  let last: PageLoad = gateWarm;
  for (let round = 0; round < rounds; round++) {
    directMs.push((await loadPage(direct.origin, direct.headers, paths)).ms);
    const before = gate.sampleCpu();
    last = await loadPage(gate.origin, gate.headers, paths);
    gateCpuMs.push(cpuWindow(before, gate.sampleCpu()).processSeconds * 1e3);
    gateMs.push(last.ms);
  }
  return {
    requests: last.requests,
    bytes: last.bytes,
    rounds,
    directMs: spreadOf(directMs),
    gateMs: spreadOf(gateMs),
    gateCpuMs: spreadOf(gateCpuMs),
    mismatches: statusMismatches(directWarm, gateWarm),
  };
}

type Row = string[];

function spread(value: Spread, decimals: number): string {
  return `${formatNumber(value.median, decimals)} (${formatNumber(value.min, decimals)}–${formatNumber(value.max, decimals)})`;
}

export function pageLoadRows(section: PageLoadSection): Row[] {
  const name =
    `teammate's first page load (${formatNumber(section.requests)} GETs, ${formatMiB(section.bytes)}, ` +
    `6 connections, ${section.rounds} alternating rounds)`;
  const rows: Row[] = [
    [
      `${name}: ms, median (min–max)`,
      spread(section.directMs, 0),
      spread(section.gateMs, 0),
      formatRatio(section.gateMs.median / section.directMs.median),
      '',
      '',
    ],
    [`${name}: gate CPU ms per page load`, '—', spread(section.gateCpuMs, 1), '—', '', ''],
  ];
  if (section.mismatches.length > 0) {
    rows.push([
      `page load: answers that differ through the gate`,
      '',
      section.mismatches.slice(0, 3).join('; '),
      '',
      'none',
      'MISSED',
    ]);
  }
  return rows;
}

export function previewRows(result: PreviewLoadResult): Row[] {
  const name =
    `${formatNumber(result.sockets)} WebSockets (deflate offered, ${result.compressed ? 'negotiated' : 'not negotiated'}), ` +
    `previews to ${result.watching}`;
  return [
    [
      `${name}: gate RSS before → all open → after previews`,
      '—',
      `${formatMiB(result.rssBeforeBytes)} → ${formatMiB(result.rssOpenBytes)} → ${formatMiB(result.rssAfterBytes)}`,
      '—',
      '',
      '',
    ],
    [
      `${name}: previews delivered / sent (stray to idle sockets)`,
      '—',
      `${formatNumber(result.previewsReceived)} / ${formatNumber(result.previewsSent)} (${formatNumber(result.strayPreviews)})`,
      '—',
      '',
      result.strayPreviews > 0 || result.previewsReceived < result.previewsSent ? 'MISSED' : '',
    ],
    [
      `${name}: gate CPU while previews flow (share of a core; µs per preview)`,
      '—',
      `${formatNumber(result.cpuShare * 100, 1)}%; ${formatNumber(result.cpuUsPerPreview, 1)} µs`,
      '—',
      '',
      '',
    ],
  ];
}
