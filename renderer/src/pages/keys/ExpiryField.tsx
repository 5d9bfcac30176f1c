import { Field } from '../../components/Field.js';
import type { ExpiryChoice, ExpiryDraft } from '../../lib/expiry.js';
import { formatDate, localDay } from '../../lib/format.js';

const PRESETS: { value: ExpiryChoice; label: string }[] = [
  { value: 'never', label: 'Never' },
  { value: '1', label: 'In 1 day' },
  { value: '7', label: 'In 7 days' },
  { value: '30', label: 'In 30 days' },
  { value: '90', label: 'In 90 days' },
  { value: 'custom', label: 'On a date…' },
];

export function ExpiryField({
  value,
  onChange,
  current,
  error,
}: {
  value: ExpiryDraft;
  onChange: (value: ExpiryDraft) => void;
  /** The key's expiry now, when editing. */
  current?: string | null;
  error?: string | undefined;
}) {
  const options =
    current === undefined
      ? PRESETS
      : [{ value: 'keep' as const, label: current ? `Keep: ${formatDate(current)}` : 'Keep: never' }, ...PRESETS];
  return (
    <div className="expiry-field">
      <Field label="Expires" error={value.choice === 'custom' ? undefined : error}>
        <select
          value={value.choice}
          onChange={(event) => onChange({ ...value, choice: event.target.value as ExpiryChoice })}
        >
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      </Field>
      {value.choice === 'custom' && (
        <Field label="Expiry date" error={error}>
          <input
            type="date"
            min={localDay()}
            value={value.date}
            required
            onChange={(event) => onChange({ ...value, date: event.target.value })}
          />
        </Field>
      )}
    </div>
  );
}
