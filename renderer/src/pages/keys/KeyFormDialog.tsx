import { useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../../api/client.js';
import { gate } from '../../api/gate.js';
import type { CreateKeyBody, KeyRecord, KeyWithSecret, Limits, Role, UpdateKeyBody } from '../../api/types.js';
import { Dialog } from '../../components/Dialog.js';
import { Field } from '../../components/Field.js';
import {
  limitErrorsFrom,
  LimitsFields,
  limitsDraft,
  parseLimits,
  type LimitsDraft,
} from '../../components/LimitsFields.js';
import { useResource } from '../../lib/useResource.js';
import { ROLE_INFO, ROLES } from '../../lib/roles.js';
import { ExpiryField, expiryValue, type ExpiryDraft } from './ExpiryField.js';

/** The choices of the New key dialog: the gate's presets, plus a plain viewer. */
type Choice = 'guest' | Role;

const CHOICES: { value: Choice; label: string; summary: string }[] = [
  {
    value: 'guest',
    label: 'Guest',
    summary:
      'A viewer that may also generate, within tight limits: 20 prompts a day, one at a time, 120 requests/min, 7 days.',
  },
  { value: 'viewer', label: 'Viewer', summary: ROLE_INFO.viewer.summary },
  { value: 'creator', label: 'Creator', summary: ROLE_INFO.creator.summary },
  { value: 'operator', label: 'Operator', summary: ROLE_INFO.operator.summary },
  { value: 'admin', label: 'Admin', summary: ROLE_INFO.admin.summary },
];

/** The gate's guest preset (server/keys/keyPresets.ts), shown before it is sent. */
const GUEST_LIMITS: Limits = { perMinute: 120, perHour: 1200, promptsPerDay: 20, maxQueued: 1 };
/** What requests per minute and per hour count (server/limits/limitStep.ts). */
const WHAT_COUNTS =
  'Requests per minute and hour count API calls only: the web UI’s own files and opening its WebSocket are free, so loading the page never uses them up.';
const NO_LIMITS: Limits = { perMinute: null, perHour: null, promptsPerDay: null, maxQueued: null };

interface Errors {
  name?: string;
  note?: string;
  expiresAt?: string;
  role?: string;
  limits: Partial<Record<keyof Limits, string>>;
  form?: string;
}

export function CreateKeyDialog({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (key: KeyWithSecret) => void;
}) {
  const settings = useResource((signal) => gate.settings.get(signal), []);
  const defaults = settings.resource.data?.defaultLimits ?? NO_LIMITS;
  const [choice, setChoice] = useState<Choice>('creator');
  const [name, setName] = useState('');
  const [note, setNote] = useState('');
  const [limits, setLimits] = useState<LimitsDraft | undefined>();
  const [expiry, setExpiry] = useState<ExpiryDraft>({ choice: 'never', date: '' });
  const [errors, setErrors] = useState<Errors>({ limits: {} });
  const [busy, setBusy] = useState(false);

  const shownLimits = limits ?? limitsDraft(choice === 'guest' ? GUEST_LIMITS : defaults);

  const pick = (next: Choice): void => {
    setChoice(next);
    setLimits(limitsDraft(next === 'guest' ? GUEST_LIMITS : defaults));
    if (next === 'guest') setExpiry({ choice: '7', date: expiry.date });
    else if (choice === 'guest' && expiry.choice === '7') setExpiry({ choice: 'never', date: expiry.date });
  };

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const parsed = parseLimits(shownLimits);
    const expiresAt = expiryValue(expiry);
    const local: Errors = { limits: parsed.errors };
    if (!name.trim()) local.name = 'Give the key a name, such as the teammate it is for';
    if (expiresAt === '') local.expiresAt = 'Pick a date';
    if (local.name || local.expiresAt || Object.keys(parsed.errors).length) {
      setErrors(local);
      return;
    }
    const body: CreateKeyBody = {
      name: name.trim(),
      note,
      limits: parsed.limits,
      expiresAt: expiresAt ?? null,
      ...(choice === 'viewer' ? { role: 'viewer' as const } : { preset: choice }),
    };
    setBusy(true);
    gate.keys.create(body).then(onCreated, (error: unknown) => {
      setBusy(false);
      setErrors(serverErrors(error));
    });
  };

  return (
    <Dialog
      title="New key"
      description="Each teammate gets their own key: you can limit, watch and revoke it on its own."
      size="large"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="key-form" className="button button-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create key'}
          </button>
        </>
      }
    >
      <form id="key-form" className="form" onSubmit={submit} noValidate>
        <div className="form-row">
          <Field label="Name" error={errors.name} hint="Who or what the key is for.">
            <input
              type="text"
              value={name}
              maxLength={100}
              autoComplete="off"
              data-autofocus
              onChange={(event) => setName(event.target.value)}
            />
          </Field>
          <Field label="Note" error={errors.note} hint="Optional, only you see it.">
            <input type="text" value={note} maxLength={1000} onChange={(event) => setNote(event.target.value)} />
          </Field>
        </div>
        <fieldset className="choice-group">
          <legend>What may it do?</legend>
          <div className="choice-grid">
            {CHOICES.map((option) => (
              <label key={option.value} className={option.value === choice ? 'choice is-selected' : 'choice'}>
                <input
                  type="radio"
                  name="key-preset"
                  value={option.value}
                  checked={option.value === choice}
                  onChange={() => pick(option.value)}
                />
                <span className="choice-label">{option.label}</span>
                <span className="choice-summary">{option.summary}</span>
              </label>
            ))}
          </div>
          {errors.role && <p className="field-error">{errors.role}</p>}
        </fieldset>
        <fieldset className="plain-fieldset">
          <legend>Limits</legend>
          <p className="field-hint">Empty means unlimited. New keys start from the default limits in Settings.</p>
          <p className="field-hint">{WHAT_COUNTS}</p>
          <LimitsFields value={shownLimits} onChange={setLimits} errors={errors.limits} />
        </fieldset>
        <ExpiryField value={expiry} onChange={setExpiry} error={errors.expiresAt} />
        {errors.form && (
          <p className="form-error" role="alert">
            {errors.form}
          </p>
        )}
      </form>
    </Dialog>
  );
}

export function EditKeyDialog({
  record,
  onClose,
  onSaved,
}: {
  record: KeyRecord;
  onClose: () => void;
  onSaved: (key: KeyRecord) => void;
}) {
  const [name, setName] = useState(record.name);
  const [note, setNote] = useState(record.note);
  const [role, setRole] = useState<Role>(record.role);
  const [limits, setLimits] = useState(limitsDraft(record.limits));
  const [expiry, setExpiry] = useState<ExpiryDraft>({ choice: 'keep', date: '' });
  const [errors, setErrors] = useState<Errors>({ limits: {} });
  const [busy, setBusy] = useState(false);

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const parsed = parseLimits(limits);
    const expiresAt = expiryValue(expiry);
    const local: Errors = { limits: parsed.errors };
    if (!name.trim()) local.name = 'A key needs a name';
    if (expiresAt === '') local.expiresAt = 'Pick a date';
    if (local.name || local.expiresAt || Object.keys(parsed.errors).length) {
      setErrors(local);
      return;
    }
    const body: UpdateKeyBody = { name: name.trim(), note, limits: parsed.limits };
    if (role !== record.role) {
      body.role = role;
      // A guest's own scopes would outlive a new role; the role's scopes take over.
      if (record.scopes !== null) body.scopes = null;
    }
    if (expiresAt !== undefined) body.expiresAt = expiresAt;
    setBusy(true);
    gate.keys.update(record.id, body).then(onSaved, (error: unknown) => {
      setBusy(false);
      setErrors(serverErrors(error));
    });
  };

  return (
    <Dialog
      title={`Edit ${record.name}`}
      description={
        <>
          <code>{record.hint}</code> · changes apply to the next request.
        </>
      }
      size="large"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="edit-key-form" className="button button-primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save changes'}
          </button>
        </>
      }
    >
      <form id="edit-key-form" className="form" onSubmit={submit} noValidate>
        <div className="form-row">
          <Field label="Name" error={errors.name}>
            <input
              type="text"
              value={name}
              maxLength={100}
              data-autofocus
              onChange={(event) => setName(event.target.value)}
            />
          </Field>
          <Field label="Note" error={errors.note}>
            <input type="text" value={note} maxLength={1000} onChange={(event) => setNote(event.target.value)} />
          </Field>
        </div>
        <Field
          label="Role"
          error={errors.role}
          hint={
            record.scopes !== null && role === record.role
              ? `This key has its own scopes (${record.scopes.join(', ')}); a new role replaces them with the role's.`
              : ROLE_INFO[role].summary
          }
        >
          <select value={role} onChange={(event) => setRole(event.target.value as Role)}>
            {ROLES.map((option) => (
              <option key={option} value={option}>
                {ROLE_INFO[option].label}
              </option>
            ))}
          </select>
        </Field>
        <fieldset className="plain-fieldset">
          <legend>Limits</legend>
          <p className="field-hint">Empty means unlimited. {WHAT_COUNTS}</p>
          <LimitsFields value={limits} onChange={setLimits} errors={errors.limits} />
        </fieldset>
        <ExpiryField value={expiry} onChange={setExpiry} current={record.expiresAt} error={errors.expiresAt} />
        {errors.form && (
          <p className="form-error" role="alert">
            {errors.form}
          </p>
        )}
      </form>
    </Dialog>
  );
}

function serverErrors(error: unknown): Errors {
  if (!(error instanceof ApiError) || error.status !== 400) return { limits: {}, form: errorMessage(error) };
  const fields = error.fields;
  const out: Errors = {
    name: fields['name'],
    note: fields['note'],
    role: fields['role'] ?? fields['scopes'],
    expiresAt: fields['expiresAt'],
    limits: limitErrorsFrom(fields, 'limits'),
  };
  const placed = out.name || out.note || out.role || out.expiresAt || Object.keys(out.limits).length;
  if (!placed) out.form = error.message;
  return out;
}
