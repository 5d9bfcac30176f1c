import type { StartupPatch, StartupSettings } from '../api/types.js';

/** One ComfyUI as typed in Settings: empty label and weight mean "backend N" and 1. */
export interface BackendDraft {
  url: string;
  label: string;
  weight: string;
}

/** Problems by row and box, from the form's own check or the gate's `fields` (`upstreams.1.url`, `upstream`). */
export type BackendErrors = Array<Partial<Record<keyof BackendDraft, string>>>;

export function emptyBackend(): BackendDraft {
  return { url: '', label: '', weight: '' };
}

/** The saved list, or the one saved address (empty: ComfyUI is found automatically). */
export function backendsDraft(saved: StartupSettings): BackendDraft[] {
  if (saved.upstreams !== undefined && saved.upstreams.length > 0) {
    return saved.upstreams.map((backend) => ({
      url: backend.url,
      label: backend.label ?? '',
      weight: backend.weight === undefined ? '' : String(backend.weight),
    }));
  }
  return [{ ...emptyBackend(), url: saved.upstream ?? '' }];
}

/** Equal drafts save the same thing (whitespace aside). */
export function sameBackends(a: readonly BackendDraft[], b: readonly BackendDraft[]): boolean {
  const key = (rows: readonly BackendDraft[]): string =>
    JSON.stringify(rows.map((row) => [row.url.trim(), row.label.trim(), row.weight.trim()]));
  return key(a) === key(b);
}

function isPlain(row: BackendDraft): boolean {
  return row.label.trim() === '' && row.weight.trim() === '';
}

/**
 * What to save: one plain address as `upstream` (empty: discovery again), anything more as `upstreams`
 * (the gate drops the other of the two), or the problems the form can tell without asking the gate.
 */
export function parseBackends(rows: readonly BackendDraft[]): {
  patch: Pick<StartupPatch, 'upstream' | 'upstreams'>;
  errors: BackendErrors;
} {
  const errors: BackendErrors = rows.map(() => ({}));
  const [only] = rows;
  if (rows.length === 1 && only !== undefined && isPlain(only)) {
    const url = only.url.trim();
    return { patch: url === '' ? { upstream: null, upstreams: null } : { upstream: url, upstreams: null }, errors };
  }
  const upstreams = rows.map((row, index) => {
    const url = row.url.trim();
    const label = row.label.trim();
    const weightText = row.weight.trim();
    const weight = Number(weightText);
    const rowErrors = errors[index] ?? {};
    if (url === '')
      rowErrors.url = rows.length > 1 ? 'The ComfyUI’s address, or remove this row' : 'The ComfyUI’s address';
    if (weightText !== '' && (!Number.isFinite(weight) || weight <= 0 || weight > 1000)) {
      rowErrors.weight = 'A number above 0 and up to 1000, or empty for 1';
    }
    return { url, ...(label === '' ? {} : { label }), ...(weightText === '' ? {} : { weight }) };
  });
  const seen = new Set<string>();
  rows.forEach((row, index) => {
    const url = row.url.trim().replace(/\/+$/, '');
    if (url !== '' && seen.has(url)) (errors[index] ?? {}).url ??= 'Listed twice: each ComfyUI once';
    seen.add(url);
  });
  return { patch: { upstreams }, errors };
}

/** The gate's answer to a save, by row: `upstreams.1.weight`, or `upstream` for a single address. */
export function backendErrorsFrom(fields: Record<string, string>, rows: number): BackendErrors {
  const errors: BackendErrors = Array.from({ length: rows }, () => ({}));
  for (const [path, message] of Object.entries(fields)) {
    const match = /^upstreams\.(\d+)\.(url|label|weight)$/.exec(path);
    const row = match ? errors[Number(match[1])] : path === 'upstream' ? errors[0] : undefined;
    if (row !== undefined) row[(match?.[2] ?? 'url') as keyof BackendDraft] = message;
  }
  return errors;
}

export function hasErrors(errors: BackendErrors): boolean {
  return errors.some((row) => Object.keys(row).length > 0);
}
