import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, errorMessage } from '../api/client.js';
import { gate } from '../api/gate.js';
import type { Role, RuntimeSettings, SettingsPatch, StartupReport } from '../api/types.js';
import { CopyButton } from '../components/CopyButton.js';
import { Field } from '../components/Field.js';
import { Icon } from '../components/Icon.js';
import { LimitsFields } from '../components/LimitsFields.js';
import { ModeSwitch } from '../components/ModeSwitch.js';
import { PageHeader } from '../components/PageHeader.js';
import { ErrorState, Loading, StatusDot } from '../components/States.js';
import { useToast } from '../components/Toast.js';
import { BackendsFields } from '../components/BackendsFields.js';
import {
  backendErrorsFrom,
  backendsDraft,
  hasErrors,
  parseBackends,
  sameBackends,
  type BackendDraft,
  type BackendErrors,
} from '../lib/backendsDraft.js';
import { limitErrorsFrom, limitsDraft, parseLimits } from '../lib/limitsDraft.js';
import { MODE_INFO, ROLE_INFO, ROLES } from '../lib/roles.js';
import {
  CAP_KIND_LABELS,
  CAP_KINDS,
  capInputsDraft,
  parseCapInputs,
  parseRoleLimits,
  roleLimitsDraft,
  SHARE_LIMIT_FIELDS,
} from '../lib/shareLimits.js';
import { FRACTIONAL_LIMITS, LIMIT_LABELS } from '../lib/format.js';
import { useResource } from '../lib/useResource.js';
import { isExposed } from './OverviewPage.js';
import { SharingSwitch } from '../components/SharingSwitch.js';

type Save = (patch: SettingsPatch) => Promise<RuntimeSettings>;

export function SettingsPage() {
  const settings = useResource((signal) => gate.settings.get(signal), []);
  const startup = useResource((signal) => gate.settings.startup(signal), []);
  const toast = useToast();
  const data = settings.resource.data;

  const save: Save = async (patch) => {
    const next = await gate.settings.update(patch);
    settings.set(next);
    toast('Settings saved');
    return next;
  };

  return (
    <>
      <PageHeader title="Settings" description="Changes apply to the next request, except where a restart is noted." />
      <div className="settings">
        {startup.resource.state === 'loading' && <Loading />}
        {startup.resource.state === 'error' && <ErrorState error={startup.resource.error} onRetry={startup.reload} />}
        {startup.resource.data && (
          <ConnectionSection
            key={`connection-${startup.resource.data.saved.host ?? ''}`}
            report={startup.resource.data}
            onSaved={(report) => startup.set(report)}
            onMoved={startup.reload}
          />
        )}
        {settings.resource.state === 'loading' && <Loading label="Loading settings…" />}
        {settings.resource.state === 'error' && (
          <ErrorState error={settings.resource.error} onRetry={settings.reload} />
        )}
        {data && (
          <>
            <Section title="Protection" description="Who may use ComfyUI through the gate.">
              <ModeSwitch
                mode={data.mode}
                exposed={isExposed(startup.resource.data?.running.host ?? '127.0.0.1')}
                onChanged={(mode) => settings.set({ ...data, mode })}
              />
            </Section>
            <IsolationSection key={`isolation-${data.isolation}-${data.unownedFiles}`} settings={data} save={save} />
            <FairQueueSection key={`fair-${JSON.stringify(data.fairQueue)}`} settings={data} save={save} />
            <PublicPathsSection key={`paths-${data.publicPaths.join('\n')}`} settings={data} save={save} />
            <DefaultLimitsSection key={`limits-${JSON.stringify(data.defaultLimits)}`} settings={data} save={save} />
            <AnonymousSection key={`anon-${JSON.stringify(data.anonymous)}`} settings={data} save={save} />
            <RoleDefaultsSection key={`roles-${JSON.stringify(data.roleLimits)}`} settings={data} save={save} />
            <CapInputsSection key={`caps-${JSON.stringify(data.capInputs)}`} settings={data} save={save} />
            <LockoutSection key={`lockout-${JSON.stringify(data.lockout)}`} settings={data} save={save} />
            <TrustProxySection key={`proxies-${data.trustProxy.join('\n')}`} settings={data} save={save} />
            <WebSocketsSection key={`websockets-${data.maxWebSocketsPerKey ?? ''}`} settings={data} save={save} />
            <RetentionSection key={`retention-${data.retentionDays}`} settings={data} save={save} />
            <LogRetentionSection key={`log-${JSON.stringify(data.logRetention)}`} settings={data} save={save} />
            <MetricsSection key={`metrics-${data.metricsToken ?? ''}`} settings={data} save={save} />
            <NotificationsSection key={`notify-${JSON.stringify(data.notifications)}`} settings={data} save={save} />
          </>
        )}
      </div>
    </>
  );
}

function Section({ title, description, children }: { title: string; description?: ReactNode; children: ReactNode }) {
  return (
    <section className="card settings-section">
      <div className="settings-intro">
        <h2>{title}</h2>
        {description && <p className="muted">{description}</p>}
      </div>
      <div className="settings-body">{children}</div>
    </section>
  );
}

/** A section whose fields save together; the gate's 400 problems land next to their fields. */
function FormSection({
  title,
  description,
  children,
  onSubmit,
  busy,
  error,
  dirty,
  onEdit,
}: {
  title: string;
  description?: ReactNode;
  children: ReactNode;
  onSubmit: () => void;
  busy: boolean;
  error?: string | undefined;
  dirty: boolean;
  /** Any field changed: the gate's earlier complaints no longer apply. */
  onEdit?: () => void;
}) {
  return (
    <Section title={title} description={description}>
      <form
        className="form"
        noValidate
        onChange={onEdit}
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          onSubmit();
        }}
      >
        {children}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy || !dirty}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </Section>
  );
}

/** Runs a save; a 400's field problems go to `onFields`, anything else becomes the form's error. */
function useSaver() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [fields, setFields] = useState<Record<string, string>>({});
  const run = (action: () => Promise<unknown>, known: (field: string) => boolean): void => {
    setBusy(true);
    setError(undefined);
    setFields({});
    action().then(
      () => setBusy(false),
      (e: unknown) => {
        setBusy(false);
        if (e instanceof ApiError && e.status === 400) {
          const problems = e.fields;
          const placed = Object.keys(problems).some(known);
          setFields(problems);
          if (!placed) setError(e.message);
        } else setError(errorMessage(e));
      }
    );
  };
  const reset = (): void => {
    setError(undefined);
    setFields((current) => (Object.keys(current).length ? {} : current));
  };
  return { busy, error, fields, run, reset };
}

function ConnectionSection({
  report,
  onSaved,
  onMoved,
}: {
  report: StartupReport;
  onSaved: (report: StartupReport) => void;
  /** The sharing switch moved the listener (and saved where it listens). */
  onMoved: () => void;
}) {
  const toast = useToast();
  const sharing = useResource((signal) => gate.sharing.get(signal), []);
  const [backends, setBackends] = useState<BackendDraft[]>(() => backendsDraft(report.saved));
  const [backendErrors, setBackendErrors] = useState<BackendErrors>([]);
  const [host, setHost] = useState(report.saved.host ?? report.running.host);
  const [port, setPort] = useState(String(report.saved.port ?? report.running.port));
  const [https, setHttps] = useState(report.saved.https ?? report.running.https);
  const httpsId = useId();
  const [test, setTest] = useState<{ state: 'idle' | 'testing' | 'ok' | 'failed'; message?: string }>({
    state: 'idle',
  });
  const saver = useSaver();
  const dirty =
    !sameBackends(backends, backendsDraft(report.saved)) ||
    host !== (report.saved.host ?? report.running.host) ||
    port !== String(report.saved.port ?? report.running.port) ||
    https !== (report.saved.https ?? report.running.https);
  const portNumber = Number(port);
  const portError =
    port.trim() && (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535)
      ? 'A port from 1 to 65535'
      : undefined;

  const testUpstream = (): void => {
    const typed = backends.map((row) => row.url.trim()).filter((url) => url !== '');
    const urls = typed.length > 0 ? typed : [report.running.upstream];
    setTest({ state: 'testing' });
    Promise.all(urls.map((url) => gate.settings.testUpstream(url))).then(
      (results) => {
        const silent = results.filter((result) => !result.reachable).map((result) => result.url);
        if (silent.length > 0) {
          setTest({ state: 'failed', message: `Nothing answers like ComfyUI at ${silent.join(', ')}` });
        } else {
          const [only] = results;
          setTest({
            state: 'ok',
            message:
              results.length === 1 && only ? `ComfyUI answers at ${only.url}` : `All ${results.length} ComfyUIs answer`,
          });
        }
      },
      (e: unknown) => {
        const fields = e instanceof ApiError ? e.fields : {};
        setTest({ state: 'failed', message: fields['url'] ?? errorMessage(e) });
      }
    );
  };

  const editBackends = (rows: BackendDraft[]): void => {
    setBackends(rows);
    setBackendErrors([]);
    setTest({ state: 'idle' });
  };

  const submit = (): void => {
    const parsed = parseBackends(backends);
    setBackendErrors(parsed.errors);
    if (portError || hasErrors(parsed.errors)) return;
    saver.run(
      async () => {
        const next = await gate.settings.updateStartup({
          ...parsed.patch,
          host: host.trim() || null,
          port: port.trim() ? portNumber : null,
          https,
        });
        onSaved(next);
        toast(next.restartNeeded ? 'Saved: restart the gate to apply' : 'Saved');
      },
      (field) => ['upstream', 'host', 'port', 'https'].includes(field) || field.startsWith('upstreams')
    );
  };

  const exposed = isExposed(host.trim() || '127.0.0.1');
  return (
    <FormSection
      title="Connection"
      description="Who can connect (applied at once), which ComfyUI the gate fronts and the exact address and port (saved now, applied at the next start)."
      onSubmit={submit}
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={dirty}
    >
      {sharing.resource.data && (
        <SharingSwitch
          network={sharing.resource.data.network}
          onChanged={(next) => {
            sharing.set(next);
            onMoved();
          }}
        />
      )}
      {sharing.resource.state === 'error' && <ErrorState error={sharing.resource.error} onRetry={sharing.reload} />}
      <BackendsFields
        rows={backends}
        errors={hasErrors(backendErrors) ? backendErrors : backendErrorsFrom(saver.fields, backends.length)}
        listError={saver.fields['upstreams']}
        hint={
          <>
            {backends.length > 1
              ? 'Several ComfyUIs look like one to teammates.'
              : 'Empty finds ComfyUI automatically.'}{' '}
            Running now: <code>{report.running.upstream}</code>.
          </>
        }
        actions={
          <>
            <button
              type="button"
              className="button button-small"
              onClick={testUpstream}
              disabled={test.state === 'testing'}
            >
              {test.state === 'testing' ? 'Testing…' : 'Test connection'}
            </button>
            {(test.state === 'ok' || test.state === 'failed') && (
              <span role="status">
                <StatusDot tone={test.state === 'ok' ? 'ok' : 'danger'} label={test.message ?? ''} />
              </span>
            )}
          </>
        }
        onChange={editBackends}
      />
      <div className="form-row">
        <Field
          label="Listen on"
          error={saver.fields['host']}
          hint={exposed ? 'Reachable from your network: keep protection on.' : 'Only this computer can reach the gate.'}
        >
          <input
            type="text"
            value={host}
            spellCheck={false}
            list="host-choices"
            onChange={(event) => setHost(event.target.value)}
          />
        </Field>
        <Field label="Port" error={portError ?? saver.fields['port']}>
          <input type="number" min={1} max={65535} value={port} onChange={(event) => setPort(event.target.value)} />
        </Field>
      </div>
      <div className="field">
        <label htmlFor={httpsId}>
          <input
            id={httpsId}
            type="checkbox"
            checked={https}
            style={{ accentColor: 'var(--accent)' }}
            aria-describedby={`${httpsId}-hint`}
            onChange={(event) => setHttps(event.target.checked)}
          />{' '}
          HTTPS with a self-signed certificate
        </label>
        <p id={`${httpsId}-hint`} className="field-hint">
          Keys and sessions then travel encrypted on your network. The gate makes the certificate for this computer’s
          names and addresses, keeps it in the data folder and renews it; teammates’ browsers warn once, and they check
          the fingerprint on the share card. Applied at the next start. Running now:{' '}
          {report.running.https ? 'HTTPS' : 'plain HTTP'}.
        </p>
      </div>
      <datalist id="host-choices">
        <option value="127.0.0.1">This computer only</option>
        <option value="0.0.0.0">Share on your network</option>
      </datalist>
      {report.restartNeeded && (
        <div className="banner banner-info" role="status">
          <Icon name="refresh" size={18} />
          <span>
            Restart the gate to apply the saved connection settings. It runs now on{' '}
            <code>
              {report.running.host}:{report.running.port}
            </code>{' '}
            in front of <code>{report.running.upstream}</code>.
          </span>
        </div>
      )}
    </FormSection>
  );
}

function IsolationSection({ settings, save }: { settings: RuntimeSettings; save: Save }) {
  const [isolation, setIsolation] = useState(settings.isolation);
  const [showUnowned, setShowUnowned] = useState(settings.unownedFiles === 'visible');
  const unownedFiles = showUnowned ? 'visible' : 'hidden';
  const saver = useSaver();
  const id = useId();
  const error = saver.fields['isolation'];
  const unownedError = saver.fields['unownedFiles'];
  const { optional, required } = MODE_INFO;
  return (
    <FormSection
      title="Sharing safely"
      description="What teammates who share this gate see of each other’s work."
      onSubmit={() =>
        saver.run(
          () => save({ isolation, unownedFiles }),
          (f) => f === 'isolation' || f === 'unownedFiles'
        )
      }
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={isolation !== settings.isolation || unownedFiles !== settings.unownedFiles}
    >
      <div className={error ? 'field field-invalid' : 'field'}>
        <label htmlFor={id}>
          <input
            id={id}
            type="checkbox"
            checked={isolation}
            style={{ accentColor: 'var(--accent)' }}
            aria-describedby={[`${id}-hint`, `${id}-space`, `${id}-modes`, error ? `${id}-error` : '']
              .filter(Boolean)
              .join(' ')}
            aria-invalid={error ? true : undefined}
            onChange={(event) => setIsolation(event.target.checked)}
          />{' '}
          Team isolation
        </label>
        <p id={`${id}-hint`} className="field-hint">
          Viewers, creators, guests and anonymous callers see and touch only their own prompts (queue, history, live
          previews, interrupt) and no server paths; operators and admins see everything.
        </p>
        <p id={`${id}-space`} className="field-hint">
          Without ComfyUI’s <code>--multi-user</code>, teammates share saved workflows (each may change only their own;
          the gate keeps each one’s settings apart); start ComfyUI with <code>--multi-user</code> to give each their own
          workflows.
        </p>
        <p id={`${id}-modes`} className="field-hint">
          Applies only while protection is {optional.label} or {required.label}.
        </p>
        {error && (
          <p id={`${id}-error`} className="field-error">
            {error}
          </p>
        )}
      </div>
      <div className={unownedError ? 'field field-invalid' : 'field'}>
        <label htmlFor={`${id}-unowned`}>
          <input
            id={`${id}-unowned`}
            type="checkbox"
            checked={showUnowned}
            disabled={!isolation}
            style={{ accentColor: 'var(--accent)' }}
            aria-describedby={[`${id}-unowned-hint`, unownedError ? `${id}-unowned-error` : '']
              .filter(Boolean)
              .join(' ')}
            aria-invalid={unownedError ? true : undefined}
            onChange={(event) => setShowUnowned(event.target.checked)}
          />{' '}
          Show files of no known owner
        </label>
        <p id={`${id}-unowned-hint`} className="field-hint">
          Teammates always see their own uploads and outputs, never another’s. Files the gate knows no owner of (made
          before it, or by operators) are hidden unless you tick this, e.g. to share example inputs.
        </p>
        {unownedError && (
          <p id={`${id}-unowned-error`} className="field-error">
            {unownedError}
          </p>
        )}
      </div>
      {settings.mode === 'off' && (
        <div className="banner banner-info" role="status">
          <Icon name="alert" size={18} />
          <span>
            Protection is off, so everyone sees every prompt until you choose {optional.label} or {required.label}{' '}
            above.
          </span>
        </div>
      )}
    </FormSection>
  );
}

function FairQueueSection({ settings, save }: { settings: RuntimeSettings; save: Save }) {
  const [enabled, setEnabled] = useState(settings.fairQueue.enabled);
  const [byGpuTime, setByGpuTime] = useState(settings.fairQueue.byGpuTime);
  const saver = useSaver();
  const id = useId();
  const error = saver.fields['fairQueue.enabled'] ?? saver.fields['fairQueue.byGpuTime'];
  return (
    <FormSection
      title="Fair order"
      description="Who goes next when several teammates have prompts waiting."
      onSubmit={() =>
        saver.run(
          () => save({ fairQueue: { enabled, byGpuTime } }),
          (f) => f.startsWith('fairQueue')
        )
      }
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={enabled !== settings.fairQueue.enabled || byGpuTime !== settings.fairQueue.byGpuTime}
    >
      <div className={error ? 'field field-invalid' : 'field'}>
        <label htmlFor={id}>
          <input
            id={id}
            type="checkbox"
            checked={enabled}
            style={{ accentColor: 'var(--accent)' }}
            aria-describedby={`${id}-hint`}
            onChange={(event) => setEnabled(event.target.checked)}
          />{' '}
          Take turns by weight
        </label>
        <p id={`${id}-hint`} className="field-hint">
          Keys take turns by their weight (a key’s own, else its role’s, else 1) instead of first come, first served:
          someone who queues 40 prompts no longer makes everyone else wait for all 40. Operators and admins may still
          queue a prompt in front.
        </p>
      </div>
      <div className="field">
        <label htmlFor={`${id}-gpu`}>
          <input
            id={`${id}-gpu`}
            type="checkbox"
            checked={byGpuTime}
            disabled={!enabled}
            style={{ accentColor: 'var(--accent)' }}
            aria-describedby={[`${id}-gpu-hint`, error ? `${id}-error` : ''].filter(Boolean).join(' ')}
            onChange={(event) => setByGpuTime(event.target.checked)}
          />{' '}
          Heavy users yield to light ones
        </label>
        <p id={`${id}-gpu-hint`} className="field-hint">
          Each 10 minutes of GPU time a key used today makes its next prompts count as one prompt more.
        </p>
        {error && (
          <p id={`${id}-error`} className="field-error">
            {error}
          </p>
        )}
      </div>
    </FormSection>
  );
}

function PublicPathsSection({ settings, save }: { settings: RuntimeSettings; save: Save }) {
  const initial = settings.publicPaths.join('\n');
  const [text, setText] = useState(initial);
  const saver = useSaver();
  const paths = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const lineErrors = Object.entries(saver.fields)
    .filter(([field]) => field.startsWith('publicPaths'))
    .map(([field, message]) => {
      const index = Number(field.split('.')[1]);
      return Number.isInteger(index) ? `${paths[index] ?? `Line ${index + 1}`}: ${message}` : message;
    });
  return (
    <FormSection
      title="Public paths"
      description="With protection required, these paths pass without a key: exact paths, or a prefix ending in *."
      onSubmit={() =>
        saver.run(
          () => save({ publicPaths: paths }),
          (f) => f.startsWith('publicPaths')
        )
      }
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={text.trim() !== initial}
    >
      <Field
        label="One path per line"
        hint="For example /system_stats or /view*"
        error={lineErrors.join('; ') || undefined}
      >
        <textarea
          rows={4}
          value={text}
          spellCheck={false}
          placeholder="/system_stats"
          onChange={(event) => setText(event.target.value)}
        />
      </Field>
    </FormSection>
  );
}

function DefaultLimitsSection({ settings, save }: { settings: RuntimeSettings; save: Save }) {
  const [draft, setDraft] = useState(limitsDraft(settings.defaultLimits));
  const [local, setLocal] = useState<Partial<Record<string, string>>>({});
  const saver = useSaver();
  return (
    <FormSection
      title="Default limits"
      description="What a new key gets unless you give it its own. Existing keys keep theirs."
      onSubmit={() => {
        const parsed = parseLimits(draft);
        setLocal(parsed.errors);
        if (Object.keys(parsed.errors).length) return;
        saver.run(
          () => save({ defaultLimits: parsed.limits }),
          (f) => f.startsWith('defaultLimits')
        );
      }}
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={JSON.stringify(draft) !== JSON.stringify(limitsDraft(settings.defaultLimits))}
    >
      <LimitsFields
        value={draft}
        onChange={setDraft}
        errors={{ ...limitErrorsFrom(saver.fields, 'defaultLimits'), ...local }}
      />
    </FormSection>
  );
}

function AnonymousSection({ settings, save }: { settings: RuntimeSettings; save: Save }) {
  const [role, setRole] = useState<Exclude<Role, 'admin'>>(settings.anonymous.role);
  const [draft, setDraft] = useState(limitsDraft(settings.anonymous.limits));
  const [local, setLocal] = useState<Partial<Record<string, string>>>({});
  const saver = useSaver();
  const dirty =
    role !== settings.anonymous.role ||
    JSON.stringify(draft) !== JSON.stringify(limitsDraft(settings.anonymous.limits));
  return (
    <FormSection
      title="Anonymous tier"
      description={
        <>
          In mode <strong>optional</strong>, callers without a key act with this role and these limits, counted per
          client address.
        </>
      }
      onSubmit={() => {
        const parsed = parseLimits(draft);
        setLocal(parsed.errors);
        if (Object.keys(parsed.errors).length) return;
        saver.run(
          () => save({ anonymous: { role, limits: parsed.limits } }),
          (f) => f.startsWith('anonymous')
        );
      }}
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={dirty}
    >
      <Field label="Role" hint={ROLE_INFO[role].summary} error={saver.fields['anonymous.role']}>
        <select value={role} onChange={(event) => setRole(event.target.value as Exclude<Role, 'admin'>)}>
          {(['viewer', 'creator', 'operator'] as const).map((r) => (
            <option key={r} value={r}>
              {ROLE_INFO[r].label}
            </option>
          ))}
        </select>
      </Field>
      <LimitsFields
        value={draft}
        onChange={setDraft}
        errors={{ ...limitErrorsFrom(saver.fields, 'anonymous.limits'), ...local }}
        roleDefaults={settings.roleLimits[role]}
      />
    </FormSection>
  );
}

function RoleDefaultsSection({ settings, save }: { settings: RuntimeSettings; save: Save }) {
  const initial = roleLimitsDraft(settings.roleLimits);
  const [draft, setDraft] = useState(initial);
  const [local, setLocal] = useState<Record<string, string>>({});
  const saver = useSaver();
  return (
    <FormSection
      title="Role defaults"
      description="The GPU share of every key of a role where the key has none of its own: GPU seconds per day, the generation caps (image area is width × height of one node) and the queue weight. Empty: no default (unlimited, weight 1)."
      onSubmit={() => {
        const parsed = parseRoleLimits(draft);
        setLocal(parsed.errors);
        if (Object.keys(parsed.errors).length) return;
        saver.run(
          () => save({ roleLimits: parsed.roleLimits }),
          (f) => f.startsWith('roleLimits')
        );
      }}
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={JSON.stringify(draft) !== JSON.stringify(initial)}
    >
      {ROLES.map((role) => (
        <fieldset key={role} className="plain-fieldset">
          <legend>{ROLE_INFO[role].label}</legend>
          <div className="limits-grid">
            {SHARE_LIMIT_FIELDS.map((field) => (
              <Field
                key={field}
                label={LIMIT_LABELS[field].label}
                error={local[`${role}.${field}`] ?? saver.fields[`roleLimits.${role}.${field}`]}
              >
                <input
                  type="number"
                  inputMode={FRACTIONAL_LIMITS.has(field) ? 'decimal' : 'numeric'}
                  min={FRACTIONAL_LIMITS.has(field) ? 0 : 1}
                  step={FRACTIONAL_LIMITS.has(field) ? 'any' : 1}
                  placeholder={field === 'weight' ? '1 (normal)' : 'Unlimited'}
                  value={draft[role][field]}
                  onChange={(event) => setDraft({ ...draft, [role]: { ...draft[role], [field]: event.target.value } })}
                />
              </Field>
            ))}
          </div>
        </fieldset>
      ))}
    </FormSection>
  );
}

function CapInputsSection({ settings, save }: { settings: RuntimeSettings; save: Save }) {
  const initial = capInputsDraft(settings.capInputs);
  const [draft, setDraft] = useState(initial);
  const saver = useSaver();
  const problem = (kind: string): string | undefined =>
    Object.entries(saver.fields).find(([field]) => field.startsWith(`capInputs.${kind}`))?.[1];
  return (
    <FormSection
      title="Generation cap inputs"
      description="Which node inputs the caps on image area, batch size, steps and frames read, on any node class. Only values typed into the node count; an input wired from another node is not checked."
      onSubmit={() =>
        saver.run(
          () => save({ capInputs: parseCapInputs(draft) }),
          (f) => f.startsWith('capInputs')
        )
      }
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={JSON.stringify(parseCapInputs(draft)) !== JSON.stringify(settings.capInputs)}
    >
      <div className="limits-grid">
        {CAP_KINDS.map((kind) => (
          <Field key={kind} label={CAP_KIND_LABELS[kind]} hint="Names separated by commas" error={problem(kind)}>
            <input
              type="text"
              value={draft[kind]}
              spellCheck={false}
              autoComplete="off"
              onChange={(event) => setDraft({ ...draft, [kind]: event.target.value })}
            />
          </Field>
        ))}
      </div>
    </FormSection>
  );
}

function NumberField({
  label,
  value,
  onChange,
  error,
  hint,
  suffix,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  hint?: string;
  suffix?: string;
}) {
  return (
    <Field label={label} error={error} hint={hint}>
      <input
        type="number"
        min={1}
        step={1}
        value={value}
        aria-label={suffix ? `${label} (${suffix})` : undefined}
        onChange={(event) => onChange(event.target.value)}
      />
    </Field>
  );
}

function wholeNumber(text: string): number | undefined {
  const value = Number(text);
  return text.trim() !== '' && Number.isInteger(value) ? value : undefined;
}

function LockoutSection({ settings, save }: { settings: RuntimeSettings; save: Save }) {
  const { lockout } = settings;
  const [failures, setFailures] = useState(String(lockout.maxFailures));
  const [windowMinutes, setWindowMinutes] = useState(String(lockout.windowMinutes));
  const [lockMinutes, setLockMinutes] = useState(String(lockout.lockoutMinutes));
  const [local, setLocal] = useState<Record<string, string>>({});
  const saver = useSaver();
  const dirty =
    failures !== String(lockout.maxFailures) ||
    windowMinutes !== String(lockout.windowMinutes) ||
    lockMinutes !== String(lockout.lockoutMinutes);
  const error = (field: string): string | undefined => local[field] ?? saver.fields[`lockout.${field}`];
  return (
    <FormSection
      title="Brute-force lockout"
      description="An address that sends too many wrong keys is locked out for a while; others are unaffected."
      onSubmit={() => {
        const values = {
          maxFailures: wholeNumber(failures),
          windowMinutes: wholeNumber(windowMinutes),
          lockoutMinutes: wholeNumber(lockMinutes),
        };
        const problems: Record<string, string> = {};
        for (const [field, value] of Object.entries(values))
          if (value === undefined) problems[field] = 'A whole number';
        setLocal(problems);
        if (Object.keys(problems).length) return;
        saver.run(
          () => save({ lockout: values }),
          (f) => f.startsWith('lockout')
        );
      }}
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={dirty}
    >
      <div className="form-row form-row-3">
        <NumberField label="Wrong keys allowed" value={failures} onChange={setFailures} error={error('maxFailures')} />
        <NumberField
          label="Within (minutes)"
          value={windowMinutes}
          onChange={setWindowMinutes}
          error={error('windowMinutes')}
        />
        <NumberField
          label="Lock out for (minutes)"
          value={lockMinutes}
          onChange={setLockMinutes}
          error={error('lockoutMinutes')}
        />
      </div>
    </FormSection>
  );
}

function TrustProxySection({ settings, save }: { settings: RuntimeSettings; save: Save }) {
  const initial = settings.trustProxy.join('\n');
  const [text, setText] = useState(initial);
  const saver = useSaver();
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const lineErrors = Object.entries(saver.fields)
    .filter(([field]) => field.startsWith('trustProxy'))
    .map(([, message]) => message);
  return (
    <FormSection
      title="Behind a reverse proxy"
      description={
        <>
          Only if the gate sits behind a proxy that terminates HTTPS (Caddy, nginx, Tailscale serve, a tunnel): list the
          proxy’s address. Requests from it may then say, in <code>X-Forwarded-Proto</code>,{' '}
          <code>X-Forwarded-Host</code>, <code>X-Forwarded-For</code> or <code>Forwarded</code>, which scheme and host
          the browser used and who the client is. The gate uses that for its origin checks, the Secure session cookie,
          lockout and the logs. Everyone else’s such headers are ignored.
        </>
      }
      onSubmit={() =>
        saver.run(
          () => save({ trustProxy: entries }),
          (f) => f.startsWith('trustProxy')
        )
      }
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={text.trim() !== initial}
    >
      <Field
        label="Trusted proxy addresses, one per line"
        hint="An address or a CIDR range, for example 127.0.0.1 (a proxy on this computer) or 10.0.0.0/8. Empty: trust no proxy. Never list addresses your teammates’ browsers use: they could then claim any address and dodge lockout."
        error={lineErrors.join('; ') || undefined}
      >
        <textarea
          rows={3}
          value={text}
          spellCheck={false}
          placeholder="127.0.0.1"
          onChange={(event) => setText(event.target.value)}
        />
      </Field>
    </FormSection>
  );
}

function WebSocketsSection({ settings, save }: { settings: RuntimeSettings; save: Save }) {
  const [cap, setCap] = useState(settings.maxWebSocketsPerKey === null ? '' : String(settings.maxWebSocketsPerKey));
  const [local, setLocal] = useState<string>();
  const saver = useSaver();
  return (
    <FormSection
      title="Open WebSockets"
      description="Each ComfyUI tab keeps one WebSocket open. Past this many for one key (or, anonymously, one address), the next tab gets 429 until another closes; the ComfyUI page keeps retrying on its own."
      onSubmit={() => {
        const value = cap.trim() === '' ? null : wholeNumber(cap);
        const invalid = value === undefined || (value !== null && value < 1);
        setLocal(invalid ? 'A whole number of 1 or more, or empty for no cap' : undefined);
        if (invalid) return;
        saver.run(
          () => save({ maxWebSocketsPerKey: value }),
          (f) => f === 'maxWebSocketsPerKey'
        );
      }}
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={cap !== (settings.maxWebSocketsPerKey === null ? '' : String(settings.maxWebSocketsPerKey))}
    >
      <NumberField
        label="Open WebSockets per key"
        hint="Empty: no cap. Default 20."
        value={cap}
        onChange={setCap}
        error={local ?? saver.fields['maxWebSocketsPerKey']}
      />
    </FormSection>
  );
}

function RetentionSection({ settings, save }: { settings: RuntimeSettings; save: Save }) {
  const [days, setDays] = useState(String(settings.retentionDays));
  const [local, setLocal] = useState<string>();
  const saver = useSaver();
  return (
    <FormSection
      title="Usage history"
      description="How many days of per-key usage the gate keeps."
      onSubmit={() => {
        const value = wholeNumber(days);
        setLocal(value === undefined ? 'A whole number of days' : undefined);
        if (value === undefined) return;
        saver.run(
          () => save({ retentionDays: value }),
          (f) => f === 'retentionDays'
        );
      }}
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={days !== String(settings.retentionDays)}
    >
      <NumberField
        label="Keep usage for (days)"
        value={days}
        onChange={setDays}
        error={local ?? saver.fields['retentionDays']}
      />
    </FormSection>
  );
}

function LogRetentionSection({ settings, save }: { settings: RuntimeSettings; save: Save }) {
  const { logRetention } = settings;
  const [days, setDays] = useState(String(logRetention.days));
  const [megabytes, setMegabytes] = useState(String(logRetention.maxMegabytes));
  const [local, setLocal] = useState<Record<string, string>>({});
  const saver = useSaver();
  const error = (field: string): string | undefined => local[field] ?? saver.fields[`logRetention.${field}`];
  return (
    <FormSection
      title="Request log"
      description="How much of the request log the gate keeps on disk. Whichever limit is reached first drops the oldest lines, an hour’s worth at a time; the Logs page says how far back it reaches."
      onSubmit={() => {
        const values = { days: wholeNumber(days), maxMegabytes: wholeNumber(megabytes) };
        const problems: Record<string, string> = {};
        for (const [field, value] of Object.entries(values))
          if (value === undefined) problems[field] = 'A whole number';
        setLocal(problems);
        if (Object.keys(problems).length) return;
        saver.run(
          () => save({ logRetention: values }),
          (f) => f.startsWith('logRetention')
        );
      }}
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={days !== String(logRetention.days) || megabytes !== String(logRetention.maxMegabytes)}
    >
      <div className="form-row">
        <NumberField label="Keep requests for (days)" value={days} onChange={setDays} error={error('days')} />
        <NumberField
          label="At most (MB, 10 or more)"
          value={megabytes}
          onChange={setMegabytes}
          error={error('maxMegabytes')}
        />
      </div>
    </FormSection>
  );
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

function MetricsSection({ settings, save }: { settings: RuntimeSettings; save: Save }) {
  const [token, setToken] = useState(settings.metricsToken ?? '');
  const saver = useSaver();
  const scrape = `authorization: { type: Bearer, credentials: '${token || '<metrics token>'}' }`;
  return (
    <FormSection
      title="Metrics"
      description={
        <>
          Prometheus reads <code>/gate/metrics</code> with an admin key, or with this token as a bearer token.
        </>
      }
      onSubmit={() =>
        saver.run(
          () => save({ metricsToken: token.trim() || null }),
          (f) => f === 'metricsToken'
        )
      }
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={token !== (settings.metricsToken ?? '')}
    >
      <Field
        label="Metrics token"
        hint="At least 16 characters; empty turns token access off."
        error={saver.fields['metricsToken']}
      >
        <input
          type="text"
          value={token}
          spellCheck={false}
          autoComplete="off"
          placeholder="No token"
          onChange={(event) => setToken(event.target.value)}
        />
      </Field>
      <div className="inline-actions">
        <button type="button" className="button button-small" onClick={() => setToken(randomToken())}>
          Generate a token
        </button>
        {token && <CopyButton text={token} what="metrics token" />}
        {token && (
          <button type="button" className="button button-small button-ghost" onClick={() => setToken('')}>
            Remove
          </button>
        )}
      </div>
      {token && <pre className="code-block">{scrape}</pre>}
    </FormSection>
  );
}

type NotificationSwitches = RuntimeSettings['notifications'];

const NOTIFICATION_SWITCHES: { name: keyof NotificationSwitches; label: string; hint: string }[] = [
  {
    name: 'comfyDown',
    label: 'ComfyUI stops answering, and when it is back',
    hint: 'Only after it stayed down for 20 seconds: a restart of ComfyUI is not news. With several ComfyUIs, each one by its label.',
  },
  { name: 'firstUse', label: 'A key is used for the first time', hint: 'You learn that a teammate has started.' },
  { name: 'lockout', label: 'An address is locked out', hint: 'After repeated wrong keys (see Brute-force lockout).' },
  {
    name: 'quota',
    label: 'A key reaches its prompts-per-day limit',
    hint: 'Its further prompts are refused until midnight.',
  },
];

function NotificationsSection({ settings, save }: { settings: RuntimeSettings; save: Save }) {
  const [switches, setSwitches] = useState(settings.notifications);
  const saver = useSaver();
  const id = useId();
  const dirty = NOTIFICATION_SWITCHES.some(({ name }) => switches[name] !== settings.notifications[name]);
  return (
    <FormSection
      title="Notifications"
      description="What the desktop app tells you while its window is closed. The headless gate shows none."
      onSubmit={() =>
        saver.run(
          () => save({ notifications: switches }),
          (f) => f.startsWith('notifications')
        )
      }
      busy={saver.busy}
      error={saver.error}
      onEdit={saver.reset}
      dirty={dirty}
    >
      {NOTIFICATION_SWITCHES.map(({ name, label, hint }) => (
        <div key={name} className="field">
          <label htmlFor={`${id}-${name}`}>
            <input
              id={`${id}-${name}`}
              type="checkbox"
              checked={switches[name]}
              style={{ accentColor: 'var(--accent)' }}
              aria-describedby={`${id}-${name}-hint`}
              onChange={(event) => setSwitches({ ...switches, [name]: event.target.checked })}
            />{' '}
            {label}
          </label>
          <p id={`${id}-${name}-hint`} className="field-hint">
            {hint}
          </p>
        </div>
      ))}
    </FormSection>
  );
}
