import { useEffect, useMemo, useState } from 'react';
import { errorMessage } from '../api/client.js';
import { gate } from '../api/gate.js';
import type { AuditAction, AuditRecord } from '../api/types.js';
import { Field } from '../components/Field.js';
import { PageHeader } from '../components/PageHeader.js';
import { EmptyState, ErrorState, Loading } from '../components/States.js';
import { formatDateTime, formatRelative, formatTime, localDay } from '../lib/format.js';
import { useResource } from '../lib/useResource.js';

const ACTIONS: { value: AuditAction; label: string }[] = [
  { value: 'key.created', label: 'Key created' },
  { value: 'key.updated', label: 'Key changed' },
  { value: 'key.rotated', label: 'Key rotated' },
  { value: 'key.deactivated', label: 'Key deactivated' },
  { value: 'key.activated', label: 'Key activated' },
  { value: 'key.deleted', label: 'Key deleted' },
  { value: 'key.sessions_ended', label: 'Signed out everywhere' },
  { value: 'settings.updated', label: 'Settings changed' },
  { value: 'mode.changed', label: 'Protection changed' },
  { value: 'login', label: 'Signed in' },
  { value: 'login.failed', label: 'Sign-in failed' },
  { value: 'logout', label: 'Signed out' },
  { value: 'lockout', label: 'Address locked out' },
];
const LABELS = new Map(ACTIONS.map((a) => [a.value, a.label]));

function tone(action: AuditAction): string {
  if (action === 'login.failed' || action === 'lockout' || action === 'key.deleted' || action === 'key.deactivated')
    return 'badge-danger';
  if (action === 'mode.changed' || action === 'settings.updated' || action === 'key.rotated') return 'badge-warn';
  if (action === 'key.created' || action === 'key.activated' || action === 'login') return 'badge-ok';
  return '';
}

function details(record: AuditRecord): string {
  if (!record.details) return '';
  return Object.entries(record.details)
    .map(([name, value]) => `${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' · ');
}

export function AuditPage() {
  const [action, setAction] = useState<AuditAction | ''>('');
  const [older, setOlder] = useState<{ items: AuditRecord[]; next: string | null; busy: boolean; error?: unknown }>();
  useEffect(() => setOlder(undefined), [action]);
  // Refreshes the newest page until older pages are shown (they would no longer join up).
  const page = useResource(
    (signal) => gate.audit({ action: action || undefined, limit: 100 }, signal),
    [action],
    older ? undefined : 15_000
  );
  const keys = useResource((signal) => gate.keys.list(signal), []);
  const names = useMemo(() => new Map((keys.resource.data ?? []).map((k) => [k.id, k.name])), [keys.resource.data]);
  const items = [...(page.resource.data?.items ?? []), ...(older?.items ?? [])];
  const next = older ? older.next : (page.resource.data?.next ?? null);

  const today = localDay();
  const who = (id: string | null | undefined): string => (id ? (names.get(id) ?? id) : '—');

  const loadOlder = (): void => {
    if (!next) return;
    setOlder((o) => ({ items: o?.items ?? [], next, busy: true }));
    gate.audit({ action: action || undefined, limit: 100, before: next }).then(
      (more) => setOlder((o) => ({ items: [...(o?.items ?? []), ...more.items], next: more.next, busy: false })),
      (error: unknown) => setOlder((o) => ({ items: o?.items ?? [], next, busy: false, error }))
    );
  };

  return (
    <>
      <PageHeader title="Audit" description="Who changed keys and settings, sign-ins, and lockouts." />
      <div className="card filters" role="group" aria-label="Filters">
        <Field label="Event">
          <select value={action} onChange={(event) => setAction(event.target.value as AuditAction | '')}>
            <option value="">All events</option>
            {ACTIONS.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <section className="card card-flush" aria-label="Audit events">
        {page.resource.state === 'loading' && <Loading label="Loading the audit log…" />}
        {page.resource.state === 'error' && !page.resource.data && (
          <ErrorState error={page.resource.error} onRetry={page.reload} />
        )}
        {page.resource.data && items.length === 0 && (
          <EmptyState title={action ? 'No such events yet' : 'Nothing recorded yet'}>
            Key changes, settings changes and sign-ins are recorded here.
          </EmptyState>
        )}
        {items.length > 0 && (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Event</th>
                  <th scope="col">By</th>
                  <th scope="col">On</th>
                  <th scope="col">From</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {items.map((record, i) => (
                  <tr key={`${record.time}-${i}`}>
                    <td className="nowrap">
                      <time dateTime={record.time} title={formatRelative(record.time)}>
                        {localDay(Date.parse(record.time)) === today
                          ? formatTime(record.time)
                          : formatDateTime(record.time)}
                      </time>
                    </td>
                    <td className="nowrap">
                      <span className={`badge ${tone(record.action)}`}>
                        {LABELS.get(record.action) ?? record.action}
                      </span>
                    </td>
                    <td className="nowrap">
                      {record.actorKeyId ? who(record.actorKeyId) : <span className="muted">CLI / gate</span>}
                    </td>
                    <td className="nowrap">{who(record.target)}</td>
                    <td className="nowrap">
                      {record.clientIp ? <code>{record.clientIp}</code> : <span className="muted">—</span>}
                    </td>
                    <td className="details-cell">{details(record)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {items.length > 0 && (
          <div className="table-footer">
            <span className="muted small">{items.length} events</span>
            {older?.error !== undefined && <span className="form-error">{errorMessage(older.error)}</span>}
            {next && (
              <button type="button" className="button button-small" onClick={loadOlder} disabled={older?.busy}>
                {older?.busy ? 'Loading…' : 'Load older'}
              </button>
            )}
          </div>
        )}
      </section>
    </>
  );
}
