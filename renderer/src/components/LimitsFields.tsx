import type { Limits, ShareLimits } from '../api/types.js';
import { FRACTIONAL_LIMITS, LIMIT_LABELS } from '../lib/format.js';
import type { LimitsDraft } from '../lib/limitsDraft.js';
import { REQUEST_LIMIT_FIELDS, SHARE_HINTS, SHARE_LIMIT_FIELDS, sharePlaceholder } from '../lib/shareLimits.js';
import { Field } from './Field.js';

/**
 * The boxes of a key's limits: the request limits, then the GPU share under them. `roleDefaults` are
 * the Settings defaults of the key's role, shown in the empty GPU-share boxes; undefined where no
 * one role applies.
 */
export function LimitsFields({
  value,
  onChange,
  errors = {},
  disabled,
  roleDefaults,
}: {
  value: LimitsDraft;
  onChange: (value: LimitsDraft) => void;
  errors?: Partial<Record<keyof Limits, string | undefined>>;
  disabled?: boolean;
  roleDefaults?: Partial<ShareLimits> | undefined;
}) {
  const box = (field: keyof Limits, placeholder: string, hint?: string) => (
    <Field key={field} label={LIMIT_LABELS[field].label} error={errors[field]} hint={hint}>
      <input
        type="number"
        inputMode={FRACTIONAL_LIMITS.has(field) ? 'decimal' : 'numeric'}
        min={FRACTIONAL_LIMITS.has(field) ? 0 : 1}
        step={FRACTIONAL_LIMITS.has(field) ? 'any' : 1}
        placeholder={placeholder}
        value={value[field]}
        disabled={disabled}
        onChange={(event) => onChange({ ...value, [field]: event.target.value })}
      />
    </Field>
  );
  return (
    <>
      <div className="limits-grid">{REQUEST_LIMIT_FIELDS.map((field) => box(field, 'Unlimited'))}</div>
      <fieldset className="plain-fieldset">
        <legend>GPU share</legend>
        <p className="field-hint">
          Checked on each prompt; an empty box takes the role’s default from Settings. Caps read the graph’s typed
          values, not values wired from other nodes.
        </p>
        <div className="limits-grid">
          {SHARE_LIMIT_FIELDS.map((field) => box(field, sharePlaceholder(field, roleDefaults), SHARE_HINTS[field]))}
        </div>
      </fieldset>
    </>
  );
}
