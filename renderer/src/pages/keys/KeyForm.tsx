import type { FormEvent, ReactNode } from 'react';
import { ApiError, errorMessage } from '../../api/client.js';
import type { ShareLimits } from '../../api/types.js';
import { Field } from '../../components/Field.js';
import { LimitsFields } from '../../components/LimitsFields.js';
import { keyFormErrorsFrom, type KeyDraft, type KeyFormErrors } from '../../lib/keyForm.js';
import { ExpiryField } from './ExpiryField.js';

/** What requests per minute and per hour count (server/limits/limitStep.ts). */
export const WHAT_COUNTS =
  'Requests per minute and hour count API calls only: the web UI’s own files and opening its WebSocket are free, so loading the page never uses them up.';

/**
 * The form of the New key and Edit key dialogs: name, note, what the key may do (`children`),
 * limits and expiry. `currentExpiry` is the edited key's expiry; a new key has none to keep.
 */
export function KeyForm({
  id,
  value,
  onChange,
  errors,
  onSubmit,
  hints,
  currentExpiry,
  roleDefaults,
  children,
}: {
  id: string;
  value: KeyDraft;
  onChange: (value: KeyDraft) => void;
  errors: KeyFormErrors;
  onSubmit: (event: FormEvent) => void;
  hints: { name?: string; note?: string; limits: ReactNode };
  currentExpiry?: string | null;
  /** The Settings defaults of the key's role, shown in the empty GPU-share boxes (undefined until loaded). */
  roleDefaults: Partial<ShareLimits> | undefined;
  children: ReactNode;
}) {
  const editing = currentExpiry !== undefined;
  return (
    <form id={id} className="form" onSubmit={onSubmit} noValidate>
      <div className="form-row">
        <Field label="Name" error={errors.name} hint={hints.name}>
          <input
            type="text"
            value={value.name}
            maxLength={100}
            // Browsers would offer names typed for other keys; an edited key shows its own.
            autoComplete={editing ? undefined : 'off'}
            data-autofocus
            onChange={(event) => onChange({ ...value, name: event.target.value })}
          />
        </Field>
        <Field label="Note" error={errors.note} hint={hints.note}>
          <input
            type="text"
            value={value.note}
            maxLength={1000}
            onChange={(event) => onChange({ ...value, note: event.target.value })}
          />
        </Field>
      </div>
      {children}
      <fieldset className="plain-fieldset">
        <legend>Limits</legend>
        {hints.limits}
        <LimitsFields
          value={value.limits}
          onChange={(limits) => onChange({ ...value, limits })}
          errors={errors.limits}
          roleDefaults={roleDefaults}
        />
      </fieldset>
      <ExpiryField
        value={value.expiry}
        onChange={(expiry) => onChange({ ...value, expiry })}
        current={currentExpiry}
        error={errors.expiresAt}
      />
      {errors.form && (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      )}
    </form>
  );
}

export function serverErrors(error: unknown): KeyFormErrors {
  if (!(error instanceof ApiError) || error.status !== 400) return { limits: {}, form: errorMessage(error) };
  return keyFormErrorsFrom(error.fields, error.message);
}
