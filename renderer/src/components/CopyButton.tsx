import { useEffect, useState } from 'react';
import { copyText } from '../lib/clipboard.js';
import { Icon } from './Icon.js';

export function CopyButton({
  text,
  label = 'Copy',
  what,
  className,
}: {
  text: string;
  label?: string;
  what?: string;
  className?: string;
}) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = window.setTimeout(() => setState('idle'), 1800);
    return () => window.clearTimeout(timer);
  }, [state]);
  return (
    <button
      type="button"
      className={className ?? 'button button-small'}
      onClick={() => {
        void copyText(text).then((ok) => setState(ok ? 'copied' : 'failed'));
      }}
      aria-label={what ? `${label} ${what}` : label}
    >
      <Icon name={state === 'copied' ? 'check' : 'copy'} size={15} />
      <span aria-live="polite">{state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy' : label}</span>
    </button>
  );
}

/** A read-only value (key, token, command) with its copy button. */
export function CopyField({
  value,
  what,
  multiline,
  secret,
}: {
  value: string;
  what: string;
  multiline?: boolean;
  secret?: boolean;
}) {
  return (
    <div className={multiline ? 'copy-field copy-field-multi' : 'copy-field'}>
      <code className={secret ? 'copy-value secret' : 'copy-value'} aria-label={what} tabIndex={0}>
        {value}
      </code>
      <CopyButton text={value} what={what} />
    </div>
  );
}
