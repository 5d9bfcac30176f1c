import { Field } from '../../components/Field.js';
import { formatDate, localDay } from '../../lib/format.js';

/** `keep` leaves an existing expiry as it is (edit only). */
export type ExpiryChoice = 'keep' | 'never' | '1' | '7' | '30' | '90' | 'custom';

export interface ExpiryDraft {
  choice: ExpiryChoice;
  /** YYYY-MM-DD for `custom`. */
  date: string;
}

const PRESETS: { value: ExpiryChoice; label: string }[] = [
  { value: 'never', label: 'Never' },
  { value: '1', label: 'In 1 day' },
  { value: '7', label: 'In 7 days' },
  { value: '30', label: 'In 30 days' },
  { value: '90', label: 'In 90 days' },
  { value: 'custom', label: 'On a date…' },
];

/** The expiry to send: undefined to leave it, null for never, an ISO instant otherwise. */
export function expiryValue(draft: ExpiryDraft, now = Date.now()): string | null | undefined {
  switch (draft.choice) {
    case 'keep':
      return undefined;
    case 'never':
      return null;
    case 'custom': {
      if (!draft.date) return '';
      // The end of that local day: "expires on the 31st" means usable all of the 31st.
      const [y, m, d] = draft.date.split('-').map(Number);
      return new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1, 23, 59, 59).toISOString();
    }
    default:
      return new Date(now + Number(draft.choice) * 86_400_000).toISOString();
  }
}

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
