import { useState } from 'react';
import { errorMessage } from '../api/client.js';
import { gate } from '../api/gate.js';
import type { AuthMode } from '../api/types.js';
import { MODE_INFO, MODES } from '../lib/roles.js';
import { ConfirmDialog } from './Dialog.js';
import { useToast } from './Toast.js';

/**
 * Protection: off, optional, required, as three radio cards (arrow keys move between them). Turning protection
 * off while the gate listens on the network asks first.
 */
export function ModeSwitch({
  mode,
  exposed,
  onChanged,
}: {
  mode: AuthMode;
  /** The gate listens on a non-loopback address. */
  exposed: boolean;
  onChanged: (mode: AuthMode) => void;
}) {
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const [confirmOff, setConfirmOff] = useState(false);
  const [error, setError] = useState<string>();

  const apply = (next: AuthMode): void => {
    setBusy(true);
    setError(undefined);
    gate.settings.update({ mode: next }).then(
      (settings) => {
        setBusy(false);
        setConfirmOff(false);
        onChanged(settings.mode);
        toast(`Protection is now ${MODE_INFO[settings.mode].label.toLowerCase()}`);
      },
      (e: unknown) => {
        setBusy(false);
        setError(errorMessage(e));
      }
    );
  };

  const choose = (next: AuthMode): void => {
    if (next === mode || busy) return;
    if (next === 'off' && exposed) setConfirmOff(true);
    else apply(next);
  };

  return (
    <>
      <fieldset className="mode-switch" disabled={busy} aria-describedby={error ? 'mode-error' : undefined}>
        <legend className="visually-hidden">Protection mode</legend>
        {MODES.map((option) => (
          <label key={option} className={`mode-option mode-${option}${option === mode ? ' is-selected' : ''}`}>
            <input
              type="radio"
              name="protection-mode"
              value={option}
              checked={option === mode}
              onChange={() => choose(option)}
            />
            <span className="mode-label">{MODE_INFO[option].label}</span>
            <span className="mode-summary">{MODE_INFO[option].summary}</span>
          </label>
        ))}
        {error && (
          <p id="mode-error" className="form-error" role="alert">
            {error}
          </p>
        )}
      </fieldset>
      {confirmOff && (
        <ConfirmDialog
          title="Turn protection off?"
          confirmLabel="Turn off protection"
          danger
          busy={busy}
          onConfirm={() => apply('off')}
          onClose={() => setConfirmOff(false)}
        >
          <p>
            The gate listens on your network. With protection off, <strong>anyone who can reach this machine</strong>{' '}
            can use ComfyUI, queue prompts and see every image.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
