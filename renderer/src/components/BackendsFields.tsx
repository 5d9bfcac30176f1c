import type { ReactNode } from 'react';
import { emptyBackend, type BackendDraft, type BackendErrors } from '../lib/backendsDraft.js';
import { Field } from './Field.js';

/**
 * The ComfyUI (or ComfyUIs) the gate fronts: one address, or a list with a label and a weight each (see
 * README "Scaling out"). Rows are edited in place; the caller saves them.
 */
export function BackendsFields({
  rows,
  errors,
  listError,
  hint,
  actions,
  onChange,
}: {
  rows: readonly BackendDraft[];
  errors: BackendErrors;
  /** A problem of the whole list (a URL listed twice), from the gate. */
  listError: string | undefined;
  hint: ReactNode;
  /** More buttons beside "Add a ComfyUI" (Test connection). */
  actions: ReactNode;
  onChange: (rows: BackendDraft[]) => void;
}) {
  const several = rows.length > 1;
  const name = (index: number): string => (several ? `ComfyUI ${index + 1}` : 'ComfyUI');
  const edit = (index: number, change: Partial<BackendDraft>): void =>
    onChange(rows.map((row, at) => (at === index ? { ...row, ...change } : row)));
  return (
    <div className="backend-list" role="group" aria-label="ComfyUI backends">
      {rows.map((row, index) => (
        <div key={index} className="backend-row" role="group" aria-label={name(index)}>
          <Field label={several ? `ComfyUI ${index + 1}` : 'ComfyUI address'} error={errors[index]?.url}>
            <input
              type="url"
              placeholder="http://127.0.0.1:8188"
              value={row.url}
              spellCheck={false}
              onChange={(event) => edit(index, { url: event.target.value })}
            />
          </Field>
          <Field label="Label" error={errors[index]?.label}>
            <input
              type="text"
              placeholder={`backend ${index + 1}`}
              value={row.label}
              maxLength={64}
              onChange={(event) => edit(index, { label: event.target.value })}
            />
          </Field>
          <Field label="Weight" error={errors[index]?.weight}>
            <input
              type="number"
              min={0}
              step="any"
              placeholder="1"
              value={row.weight}
              onChange={(event) => edit(index, { weight: event.target.value })}
            />
          </Field>
          {several && (
            <button
              type="button"
              className="button button-small"
              aria-label={`Remove ComfyUI ${index + 1}`}
              onClick={() => onChange(rows.filter((_, at) => at !== index))}
            >
              Remove
            </button>
          )}
        </div>
      ))}
      {listError && (
        <p className="field-error" role="alert">
          {listError}
        </p>
      )}
      <p className="field-hint">
        {hint}
        {several &&
          ' Each new prompt goes to a reachable ComfyUI that has its nodes and models, with the least work ahead per unit of weight (a GPU twice as fast takes 2); the label names it on the dashboard, in comfygate status and in metrics.'}
      </p>
      <div className="inline-actions">
        <button type="button" className="button button-small" onClick={() => onChange([...rows, emptyBackend()])}>
          Add a ComfyUI
        </button>
        {actions}
      </div>
    </div>
  );
}
