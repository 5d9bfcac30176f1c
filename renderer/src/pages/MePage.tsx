import { useState } from 'react';
import { errorMessage } from '../api/client.js';
import { gate } from '../api/gate.js';
import type { AccessToken, Limits, Whoami } from '../api/types.js';
import { CopyField } from '../components/CopyButton.js';
import { Field } from '../components/Field.js';
import { Icon } from '../components/Icon.js';
import { Card, PageHeader } from '../components/PageHeader.js';
import { ErrorState, Loading } from '../components/States.js';
import { useToast } from '../components/Toast.js';
import {
  formatDate,
  formatDateTime,
  formatNumber,
  formatRelative,
  LIMIT_FIELDS,
  LIMIT_LABELS,
  localDay,
} from '../lib/format.js';
import { queuePlaceText } from '../lib/queuePlace.js';
import { accessInfo, mayGenerate } from '../lib/roles.js';
import { useResource } from '../lib/useResource.js';

/** Seconds as "42 s" or "3 min 20 s": GPU time reads best in the unit its quota is set in. */
function formatGpuSeconds(seconds: number): string {
  if (seconds < 60) return `${formatNumber(Math.round(seconds * 10) / 10)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${formatNumber(minutes)} min ${Math.floor(seconds - minutes * 60)} s`;
}

/** From this close to its expiry the teammate is told, so a new key can be asked for in time. */
const EXPIRY_NOTICE_MS = 7 * 86_400_000;

const TTL_CHOICES = [
  { seconds: 900, label: '15 minutes' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 8 * 3600, label: '8 hours' },
  { seconds: 86_400, label: '1 day' },
];

/** The teammate's page: who they are to the gate, what they may do, what they used today. */
export function MePage({ who, onSignOut }: { who: Whoami; onSignOut: () => void }) {
  const today = localDay();
  const usage = useResource((signal) => gate.usage.mine({ from: today, to: today }, signal), [today], 10_000);
  const place = useResource((signal) => gate.queuePlace(signal), [], 5_000).resource.data;
  const limits: Limits | undefined = who.legacy ? undefined : who.limits;
  const scopes = who.legacy ? null : who.scopes;
  const access = accessInfo(who.role, scopes);
  // A key that cannot queue prompts is not shown prompt quotas: they would read as a promise.
  const generates = mayGenerate(who.role, scopes);
  const shownLimits = generates
    ? LIMIT_FIELDS
    : LIMIT_FIELDS.filter((field) => field !== 'promptsPerDay' && field !== 'maxQueued');
  const promptQuota = generates ? limits?.promptsPerDay : null;
  const gpuQuota = generates ? who.gpuQuotaSeconds : null;
  const used = usage.resource.data?.totals;
  const toast = useToast();
  // For a lost laptop or a token pasted somewhere: every session of the key ends, this one too.
  const signOutEverywhere = (): void => {
    gate.signOutEverywhere().then(onSignOut, (e: unknown) => toast(errorMessage(e), 'danger'));
  };

  return (
    <>
      <PageHeader
        title={`Hello, ${who.name}`}
        description="Your access to this ComfyUI, through ComfyGate."
        actions={
          <>
            <a className="button button-primary" href="/">
              <Icon name="external" size={16} /> Open ComfyUI
            </a>
            <button type="button" className="button" onClick={onSignOut}>
              <Icon name="logout" size={16} /> Sign out
            </button>
            {!who.legacy && (
              <button
                type="button"
                className="button"
                onClick={signOutEverywhere}
                title="End every browser session and access token of your key, on all devices"
              >
                Sign out everywhere
              </button>
            )}
          </>
        }
      />
      <div className="stack-lg">
        <div className="grid grid-2">
          <Card id="me-key" title="Your key">
            <dl className="facts">
              <div>
                <dt>Name</dt>
                <dd>{who.name}</dd>
              </div>
              <div>
                <dt>Role</dt>
                <dd>
                  <span className={`role role-${who.role}`}>{access.label}</span>
                  <span className="muted small block">{access.summary}</span>
                </dd>
              </div>
              {!who.legacy && (
                <>
                  <div>
                    <dt>Key</dt>
                    <dd>
                      <code>{who.hint}</code>
                    </dd>
                  </div>
                  <div>
                    <dt>Expires</dt>
                    <dd>
                      {who.expiresAt ? (
                        <span title={formatDateTime(who.expiresAt)}>
                          {formatDate(who.expiresAt)} ({formatRelative(who.expiresAt)})
                        </span>
                      ) : (
                        'Never'
                      )}
                    </dd>
                  </div>
                </>
              )}
            </dl>
            {!who.legacy && <KeyOutlook expiresAt={who.expiresAt} />}
          </Card>
          <Card id="me-today" title="Today">
            {usage.resource.state === 'loading' && <Loading inline />}
            {usage.resource.state === 'error' && !used && (
              <ErrorState error={usage.resource.error} onRetry={usage.reload} />
            )}
            {used && (
              <>
                <div className="metrics">
                  <div className="metric">
                    <span className="metric-value">{formatNumber(used.requests)}</span>
                    <span className="metric-label">requests</span>
                  </div>
                  <div className="metric">
                    <span className="metric-value">{formatNumber(used.prompts)}</span>
                    <span className="metric-label">prompts{promptQuota ? ` of ${formatNumber(promptQuota)}` : ''}</span>
                  </div>
                  <div className="metric">
                    <span className="metric-value">{formatGpuSeconds(used.gpuSeconds)}</span>
                    <span className="metric-label">
                      GPU time{gpuQuota !== null ? ` of ${formatGpuSeconds(gpuQuota)}` : ''}
                    </span>
                  </div>
                  <div className="metric">
                    <span className="metric-value">{formatNumber(used.errors)}</span>
                    <span className="metric-label">errors</span>
                  </div>
                </div>
                {promptQuota ? (
                  <div
                    className="meter"
                    role="meter"
                    aria-label="Prompts used today"
                    aria-valuemin={0}
                    aria-valuemax={promptQuota}
                    aria-valuenow={used.prompts}
                  >
                    <span style={{ width: `${Math.min(100, (used.prompts / promptQuota) * 100)}%` }} />
                  </div>
                ) : null}
                {gpuQuota !== null ? (
                  <div
                    className="meter"
                    role="meter"
                    aria-label="GPU time used today"
                    aria-valuemin={0}
                    aria-valuemax={gpuQuota}
                    aria-valuenow={used.gpuSeconds}
                  >
                    <span
                      style={{ width: `${gpuQuota > 0 ? Math.min(100, (used.gpuSeconds / gpuQuota) * 100) : 100}%` }}
                    />
                  </div>
                ) : null}
                <p className="muted small">
                  Counted since midnight, this machine’s time. GPU time is how long ComfyUI worked on your prompts.
                </p>
              </>
            )}
            {generates && place && (
              <p id="me-queue-place" role="status">
                {queuePlaceText(place)}
              </p>
            )}
          </Card>
        </div>
        {limits && (
          <Card id="me-limits" title="Your limits">
            <dl className="limit-list">
              {shownLimits.map((field) => (
                <div key={field}>
                  <dt>{LIMIT_LABELS[field].label}</dt>
                  <dd>{limits[field] === null ? 'Unlimited' : formatNumber(limits[field] ?? 0)}</dd>
                </div>
              ))}
            </dl>
            <p className="muted small">
              Past a limit the gate answers <code>429</code> and says when to try again.
            </p>
          </Card>
        )}
        {!who.legacy && <TokenCard />}
      </div>
    </>
  );
}

/** What happens when the key stops working, said before it does: an expiry close by, and where the reason shows. */
function KeyOutlook({ expiresAt }: { expiresAt: string | null }) {
  const soon = expiresAt !== null && Date.parse(expiresAt) - Date.now() < EXPIRY_NOTICE_MS;
  return (
    <>
      {soon && (
        <div className="banner banner-warn" role="status">
          <Icon name="alert" size={18} />
          <span>
            Your key expires {formatRelative(expiresAt)} ({formatDateTime(expiresAt)}). Ask the person who runs this
            ComfyUI for a new key or a later expiry before then.
          </span>
        </div>
      )}
      <p className="muted small">
        If your key stops working (revoked, expired, replaced, or you were signed out), the sign-in page says which, and
        what to do.
      </p>
    </>
  );
}

function TokenCard() {
  const [ttl, setTtl] = useState(900);
  const [token, setToken] = useState<AccessToken>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const origin = window.location.origin;
  const wsOrigin = origin.replace(/^http/, 'ws');
  const mint = (): void => {
    setBusy(true);
    setError(undefined);
    gate.token(ttl).then(
      (answer) => {
        setBusy(false);
        setToken(answer);
      },
      (e: unknown) => {
        setBusy(false);
        setError(errorMessage(e));
      }
    );
  };
  return (
    <Card id="me-token" title="Short-lived access token">
      <p className="muted">
        For URLs that cannot carry a header — an <code>&lt;img src&gt;</code> or a WebSocket — add <code>?token=…</code>{' '}
        with a token that expires soon, instead of your long-lived key. It stops working when your key is revoked or
        rotated.
      </p>
      <div className="inline-actions">
        <Field label="Valid for">
          <select value={ttl} onChange={(event) => setTtl(Number(event.target.value))}>
            {TTL_CHOICES.map((choice) => (
              <option key={choice.seconds} value={choice.seconds}>
                {choice.label}
              </option>
            ))}
          </select>
        </Field>
        <button type="button" className="button button-primary align-end" onClick={mint} disabled={busy}>
          <Icon name="token" size={16} /> {busy ? 'Minting…' : 'Mint a token'}
        </button>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {token && (
        <div className="stack token-result">
          <CopyField value={token.token} what="access token" multiline secret />
          <p className="muted small">
            Expires {formatDateTime(token.expiresAt)}. Example:{' '}
            <code>{`${wsOrigin}/ws?clientId=me&token=${token.token.slice(0, 12)}…`}</code>
          </p>
        </div>
      )}
    </Card>
  );
}
