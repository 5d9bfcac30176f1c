import type { Limits } from '../api/types.js';

const numberFormat = new Intl.NumberFormat();
const compactFormat = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

export function formatNumber(value: number): string {
  return numberFormat.format(value);
}

export function formatCompact(value: number): string {
  return value < 10_000 ? numberFormat.format(value) : compactFormat.format(value);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const dayShort = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

export function formatDateTime(iso: string | number): string {
  return dateTime.format(new Date(iso));
}

export function formatTime(iso: string | number): string {
  return timeOnly.format(new Date(iso));
}

export function formatDate(iso: string | number): string {
  return dateOnly.format(new Date(iso));
}

/** `2026-03-05` (a local day) as `Mar 5`. */
export function formatDay(day: string): string {
  return dayShort.format(parseDay(day));
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** `3 minutes ago`, `in 6 days`. */
export function formatRelative(iso: string | number, now = Date.now()): string {
  const diff = new Date(iso).getTime() - now;
  const abs = Math.abs(diff);
  if (abs < 45_000) return diff < 0 ? 'just now' : 'in a moment';
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ['minute', 60_000],
    ['hour', 3_600_000],
    ['day', 86_400_000],
    ['month', 30 * 86_400_000],
    ['year', 365 * 86_400_000],
  ];
  let chosen: [Intl.RelativeTimeFormatUnit, number] = steps[0]!;
  for (const step of steps) if (abs >= step[1] * 0.9) chosen = step;
  return relative.format(Math.round(diff / chosen[1]), chosen[0]);
}

/** The local calendar day of a time, `YYYY-MM-DD` (as the gate counts usage). */
export function localDay(time: number | Date = Date.now()): string {
  const d = new Date(time);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function parseDay(day: string): Date {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1);
}

export function shiftDay(day: string, days: number): string {
  const date = parseDay(day);
  date.setDate(date.getDate() + days);
  return localDay(date);
}

/** Every day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let day = from; day <= to && out.length < 4000; day = shiftDay(day, 1)) out.push(day);
  return out;
}

export const LIMIT_LABELS: Record<keyof Limits, { label: string; unit: string; short: string }> = {
  perMinute: { label: 'Requests per minute', unit: 'requests / minute', short: '/min' },
  perHour: { label: 'Requests per hour', unit: 'requests / hour', short: '/h' },
  promptsPerDay: { label: 'Prompts per day', unit: 'prompts / day', short: ' prompts/day' },
  maxQueued: { label: 'Queued at once', unit: 'prompts queued at once', short: ' queued' },
  gpuSecondsPerDay: { label: 'GPU seconds per day', unit: 'seconds of GPU time / day', short: ' GPU s/day' },
  maxPixels: { label: 'Image area', unit: 'pixels (width × height)', short: ' px max' },
  maxBatch: { label: 'Batch size', unit: 'images per batch', short: ' per batch' },
  maxSteps: { label: 'Sampler steps', unit: 'steps', short: ' steps max' },
  maxFrames: { label: 'Video frames', unit: 'frames', short: ' frames max' },
  maxNodes: { label: 'Nodes per prompt', unit: 'nodes', short: ' nodes max' },
  weight: { label: 'Queue weight', unit: 'share of the queue (1 = normal)', short: '× weight' },
};

/** Limits that may have a fraction (seconds, weights); the others are whole numbers. */
export const FRACTIONAL_LIMITS: ReadonlySet<keyof Limits> = new Set(['gpuSecondsPerDay', 'weight']);

export const LIMIT_FIELDS = Object.keys(LIMIT_LABELS) as (keyof Limits)[];

/** `60/min · 20 prompts/day`, or `Unlimited`. */
export function formatLimits(limits: Limits): string {
  const parts = LIMIT_FIELDS.filter((field) => limits[field] !== null).map(
    (field) => `${formatNumber(limits[field] ?? 0)}${LIMIT_LABELS[field].short}`
  );
  return parts.length ? parts.join(' · ') : 'Unlimited';
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${formatNumber(count)} ${count === 1 ? one : many}`;
}
