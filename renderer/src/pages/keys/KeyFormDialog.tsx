import { useState, type FormEvent } from 'react';
import { gate } from '../../api/gate.js';
import type { KeyRecord, KeyWithSecret, Role } from '../../api/types.js';
import { Dialog } from '../../components/Dialog.js';
import { Field } from '../../components/Field.js';
import {
  checkKeyDraft,
  createKeyBody,
  GUEST_LIMITS,
  updateKeyBody,
  withChoice,
  type KeyChoice,
  type KeyDraft,
  type KeyFormErrors,
} from '../../lib/keyForm.js';
import { limitsDraft, NO_LIMITS, type LimitsDraft } from '../../lib/limitsDraft.js';
import { ROLE_INFO, ROLES } from '../../lib/roles.js';
import { useResource } from '../../lib/useResource.js';
import { KeyForm, serverErrors, WHAT_COUNTS } from './KeyForm.js';

const CHOICES: { value: KeyChoice; label: string; summary: string }[] = [
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

export function CreateKeyDialog({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (key: KeyWithSecret) => void;
}) {
  const settings = useResource((signal) => gate.settings.get(signal), []);
  const defaults = settings.resource.data?.defaultLimits ?? NO_LIMITS;
  const [choice, setChoice] = useState<KeyChoice>('creator');
  // Limits follow the choice and the default limits (loaded late) until the first edit.
  const [draft, setDraft] = useState<Omit<KeyDraft, 'limits'> & { limits?: LimitsDraft }>({
    name: '',
    note: '',
    expiry: { choice: 'never', date: '' },
  });
  const [errors, setErrors] = useState<KeyFormErrors>({ limits: {} });
  const [busy, setBusy] = useState(false);

  const roleDefaults = settings.resource.data?.roleLimits[choice === 'guest' ? 'viewer' : choice];
  const shown: KeyDraft = {
    ...draft,
    limits: draft.limits ?? limitsDraft(choice === 'guest' ? GUEST_LIMITS : defaults),
  };

  const pick = (next: KeyChoice): void => {
    setChoice(next);
    setDraft(withChoice(shown, choice, next, defaults));
  };

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const checked = checkKeyDraft(shown, 'Give the key a name, such as the teammate it is for');
    if ('errors' in checked) {
      setErrors(checked.errors);
      return;
    }
    setBusy(true);
    gate.keys.create(createKeyBody(checked.key, choice)).then(onCreated, (error: unknown) => {
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
      <KeyForm
        id="key-form"
        value={shown}
        // Only an edit of the limits themselves fixes them; typing a name leaves them following.
        onChange={(next) => setDraft(next.limits === shown.limits ? { ...next, limits: draft.limits } : next)}
        errors={errors}
        onSubmit={submit}
        roleDefaults={roleDefaults}
        hints={{
          name: 'Who or what the key is for.',
          note: 'Optional, only you see it.',
          limits: (
            <>
              <p className="field-hint">
                An empty request limit is unlimited. New keys start from the default limits in Settings.
              </p>
              <p className="field-hint">{WHAT_COUNTS}</p>
            </>
          ),
        }}
      >
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
      </KeyForm>
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
  const [draft, setDraft] = useState<KeyDraft>({
    name: record.name,
    note: record.note,
    limits: limitsDraft(record.limits),
    expiry: { choice: 'keep', date: '' },
  });
  const [role, setRole] = useState<Role>(record.role);
  const settings = useResource((signal) => gate.settings.get(signal), []);
  const [errors, setErrors] = useState<KeyFormErrors>({ limits: {} });
  const [busy, setBusy] = useState(false);

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const checked = checkKeyDraft(draft, 'A key needs a name');
    if ('errors' in checked) {
      setErrors(checked.errors);
      return;
    }
    setBusy(true);
    gate.keys.update(record.id, updateKeyBody(checked.key, role, record)).then(onSaved, (error: unknown) => {
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
      <KeyForm
        id="edit-key-form"
        value={draft}
        onChange={setDraft}
        errors={errors}
        onSubmit={submit}
        roleDefaults={settings.resource.data?.roleLimits[role]}
        hints={{ limits: <p className="field-hint">An empty request limit is unlimited. {WHAT_COUNTS}</p> }}
        currentExpiry={record.expiresAt}
      >
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
      </KeyForm>
    </Dialog>
  );
}
