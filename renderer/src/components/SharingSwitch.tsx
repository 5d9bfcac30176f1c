import { useState } from 'react';
import { errorMessage } from '../api/client.js';
import { gate } from '../api/gate.js';
import type { SharingReport } from '../api/types.js';
import { useToast } from './Toast.js';

const CHOICES = [
  {
    network: false,
    label: 'This computer only',
    summary: 'Only this computer can open ComfyUI through the gate. Teammates cannot connect.',
  },
  {
    network: true,
    label: 'My network',
    summary: 'Teammates on your network open the share link and sign in with their key. Needs protection on.',
  },
] as const;

/**
 * The sharing switch: two radio cards, applied at once. The gate moves its listener without a restart and keeps
 * open connections; it refuses the network while protection is off, and the refusal is shown here.
 */
export function SharingSwitch({
  network,
  onChanged,
}: {
  network: boolean;
  onChanged: (report: SharingReport) => void;
}) {
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const choose = (next: boolean): void => {
    if (next === network || busy) return;
    setBusy(true);
    setError(undefined);
    gate.sharing.set(next).then(
      (report) => {
        setBusy(false);
        onChanged(report);
        toast(report.network ? `Shared on your network: ${report.share.url}` : 'Now on this computer only');
      },
      (e: unknown) => {
        setBusy(false);
        setError(errorMessage(e));
      }
    );
  };

  return (
    <fieldset
      className="mode-switch sharing-switch"
      disabled={busy}
      aria-describedby={error ? 'sharing-error' : undefined}
    >
      <legend className="visually-hidden">Who can connect</legend>
      {CHOICES.map((choice) => (
        <label
          key={choice.label}
          className={`mode-option${choice.network === network ? ' is-selected' : ''}`}
          data-testid={choice.network ? 'share-network' : 'share-local'}
        >
          <input
            type="radio"
            name="sharing"
            value={choice.network ? 'network' : 'local'}
            checked={choice.network === network}
            onChange={() => choose(choice.network)}
          />
          <span className="mode-label">{choice.label}</span>
          <span className="mode-summary">{choice.summary}</span>
        </label>
      ))}
      {error && (
        <p id="sharing-error" className="form-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
