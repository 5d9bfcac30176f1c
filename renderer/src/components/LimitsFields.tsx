import type { Limits } from '../api/types.js';
import { LIMIT_FIELDS, LIMIT_LABELS } from '../lib/format.js';
import type { LimitsDraft } from '../lib/limitsDraft.js';
import { Field } from './Field.js';

export function LimitsFields({
  value,
  onChange,
  errors = {},
  disabled,
}: {
  value: LimitsDraft;
  onChange: (value: LimitsDraft) => void;
  errors?: Partial<Record<keyof Limits, string | undefined>>;
  disabled?: boolean;
}) {
  return (
    <div className="limits-grid">
      {LIMIT_FIELDS.map((field) => (
        <Field key={field} label={LIMIT_LABELS[field].label} error={errors[field]}>
          <input
            type="number"
            inputMode="numeric"
            min={1}
            step={1}
            placeholder="Unlimited"
            value={value[field]}
            disabled={disabled}
            onChange={(event) => onChange({ ...value, [field]: event.target.value })}
          />
        </Field>
      ))}
    </div>
  );
}
