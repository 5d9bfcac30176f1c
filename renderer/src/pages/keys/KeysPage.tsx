import { useMemo, useState } from 'react';
import { errorMessage } from '../../api/client.js';
import { gate } from '../../api/gate.js';
import type { KeyRecord, KeyWithSecret } from '../../api/types.js';
import { ConfirmDialog } from '../../components/Dialog.js';
import { Icon } from '../../components/Icon.js';
import { PageHeader } from '../../components/PageHeader.js';
import { EmptyState, ErrorState, Loading } from '../../components/States.js';
import { useToast } from '../../components/Toast.js';
import { formatDateTime, formatLimits, formatNumber, formatRelative, localDay, plural } from '../../lib/format.js';
import { ROLE_INFO } from '../../lib/roles.js';
import { useResource } from '../../lib/useResource.js';
import { CreateKeyDialog, EditKeyDialog } from './KeyFormDialog.js';
import { keyState, keyStateLabel, STATE_TONE, withoutSecret } from './keyState.js';
import { SecretDialog } from './SecretDialog.js';

type SortKey = 'name' | 'role' | 'lastUsed' | 'today' | 'state';
interface Sort {
  key: SortKey;
  descending: boolean;
}

type Modal =
  | { kind: 'create' }
  | { kind: 'edit'; record: KeyRecord }
  | { kind: 'secret'; record: KeyWithSecret; rotated: boolean }
  | { kind: 'rotate'; record: KeyRecord }
  | { kind: 'endSessions'; record: KeyRecord }
  | { kind: 'delete'; record: KeyRecord }
  | { kind: 'deactivate'; record: KeyRecord };

const ROLE_ORDER = { viewer: 0, creator: 1, operator: 2, admin: 3 } as const;
const STATE_ORDER = { active: 0, expiring: 1, inactive: 2, expired: 3 } as const;

interface Row {
  record: KeyRecord;
  today: number;
}

export function KeysPage() {
  const toast = useToast();
  const keys = useResource((signal) => gate.keys.list(signal), []);
  const today = localDay();
  const usage = useResource((signal) => gate.usage.all({ from: today, to: today }, signal), [today], 15_000);
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<Sort>({ key: 'name', descending: false });
  const [modal, setModal] = useState<Modal>();
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string>();

  const rows = useMemo((): Row[] => {
    const byKey = new Map<string, number>();
    for (const row of usage.resource.data?.days ?? []) byKey.set(row.keyId, (byKey.get(row.keyId) ?? 0) + row.requests);
    const needle = search.trim().toLowerCase();
    const list = (keys.resource.data ?? [])
      .filter(
        (record) =>
          !needle ||
          [record.name, record.note, record.id, record.hint, record.role].some((text) =>
            text.toLowerCase().includes(needle)
          )
      )
      .map((record) => ({ record, today: byKey.get(record.id) ?? 0 }));
    const compare = (a: Row, b: Row): number => {
      switch (sort.key) {
        case 'name':
          return a.record.name.localeCompare(b.record.name);
        case 'role':
          return ROLE_ORDER[a.record.role] - ROLE_ORDER[b.record.role];
        case 'lastUsed':
          return (a.record.lastUsedAt ?? '').localeCompare(b.record.lastUsedAt ?? '');
        case 'today':
          return a.today - b.today;
        case 'state':
          return STATE_ORDER[keyState(a.record)] - STATE_ORDER[keyState(b.record)];
      }
    };
    return list.sort(
      (a, b) => (sort.descending ? -compare(a, b) : compare(a, b)) || a.record.name.localeCompare(b.record.name)
    );
  }, [keys.resource.data, usage.resource.data, search, sort]);

  const replace = (record: KeyRecord): void => {
    keys.set((keys.resource.data ?? []).map((k) => (k.id === record.id ? record : k)));
  };

  const close = (): void => {
    setModal(undefined);
    setActionError(undefined);
    setBusy(false);
  };

  const run = (action: () => Promise<void>): void => {
    setBusy(true);
    setActionError(undefined);
    action().then(
      () => setBusy(false),
      (error: unknown) => {
        setBusy(false);
        setActionError(errorMessage(error));
      }
    );
  };

  const setActive = (record: KeyRecord, active: boolean): void => {
    run(async () => {
      const updated = await gate.keys.update(record.id, { active });
      replace(updated);
      close();
      toast(active ? `${record.name} can sign in again` : `${record.name} is deactivated; its sessions are closed`);
    });
  };

  const header = (key: SortKey, label: string, className?: string) => {
    const active = sort.key === key;
    return (
      <th
        scope="col"
        className={className}
        aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : 'none'}
      >
        <button
          type="button"
          className={active ? 'sort-button is-active' : 'sort-button'}
          onClick={() =>
            setSort({ key, descending: active ? !sort.descending : key === 'lastUsed' || key === 'today' })
          }
        >
          {label}
          <span className="sort-arrow" aria-hidden="true">
            {active ? (sort.descending ? '↓' : '↑') : '↕'}
          </span>
        </button>
      </th>
    );
  };

  const all = keys.resource.data;
  return (
    <>
      <PageHeader
        title="Keys"
        description="One key per teammate or script. Revoking, rotating or deleting takes effect at once."
        actions={
          <button type="button" className="button button-primary" onClick={() => setModal({ kind: 'create' })}>
            <Icon name="plus" size={16} /> New key
          </button>
        }
      />
      {keys.resource.state === 'loading' && <Loading label="Loading keys…" />}
      {keys.resource.state === 'error' && <ErrorState error={keys.resource.error} onRetry={keys.reload} />}
      {all && all.length === 0 && (
        <EmptyState
          title="No keys yet"
          action={
            <button type="button" className="button button-primary" onClick={() => setModal({ kind: 'create' })}>
              <Icon name="plus" size={16} /> Create the first key
            </button>
          }
        >
          Create a key for each teammate; they sign in with it at this gate’s address.
        </EmptyState>
      )}
      {all && all.length > 0 && (
        <section className="card card-flush" aria-label="Keys">
          <div className="toolbar">
            <label className="search">
              <Icon name="search" size={16} />
              <span className="visually-hidden">Search keys</span>
              <input
                type="search"
                placeholder="Search by name, note, role or hint"
                value={search}
                onChange={(event) => setSearch(event.target.value)}
              />
            </label>
            <span className="muted small" aria-live="polite">
              {rows.length === all.length
                ? plural(all.length, 'key')
                : `${rows.length} of ${plural(all.length, 'key')}`}
            </span>
          </div>
          {rows.length === 0 ? (
            <EmptyState title="No key matches">Try another name, or clear the search.</EmptyState>
          ) : (
            <div className="table-wrap">
              <table className="table keys-table">
                <thead>
                  <tr>
                    {header('name', 'Name')}
                    {header('role', 'Role')}
                    <th scope="col">Limits</th>
                    {header('lastUsed', 'Last used')}
                    {header('today', 'Today', 'numeric')}
                    {header('state', 'State')}
                    <th scope="col" className="actions-col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map(({ record, today: count }) => {
                    const state = keyState(record);
                    return (
                      <tr
                        key={record.id}
                        data-key-id={record.id}
                        className={state === 'inactive' || state === 'expired' ? 'is-dim' : undefined}
                      >
                        <td>
                          <div className="key-name">{record.name}</div>
                          <div className="key-meta">
                            <code>{record.hint}</code>
                            {record.note && <span> · {record.note}</span>}
                          </div>
                        </td>
                        <td>
                          <span className={`role role-${record.role}`} title={ROLE_INFO[record.role].summary}>
                            {ROLE_INFO[record.role].label}
                          </span>
                          {record.scopes && <div className="key-meta">{record.scopes.join(' + ')}</div>}
                        </td>
                        <td className="limits-cell">{formatLimits(record.limits)}</td>
                        <td>
                          {record.lastUsedAt ? (
                            <time dateTime={record.lastUsedAt} title={formatDateTime(record.lastUsedAt)}>
                              {formatRelative(record.lastUsedAt)}
                            </time>
                          ) : (
                            <span className="muted">Never</span>
                          )}
                        </td>
                        <td className="numeric">{formatNumber(count)}</td>
                        <td>
                          <span className={`badge ${STATE_TONE[state]}`}>{keyStateLabel(record)}</span>
                        </td>
                        <td className="actions-col">
                          <div className="row-actions">
                            <button
                              type="button"
                              className="icon-button"
                              aria-label={`Edit ${record.name}`}
                              title="Edit"
                              onClick={() => setModal({ kind: 'edit', record })}
                            >
                              <Icon name="edit" size={16} />
                            </button>
                            <button
                              type="button"
                              className="icon-button"
                              aria-label={`Rotate ${record.name}`}
                              title="Rotate: new secret, same limits and history"
                              onClick={() => setModal({ kind: 'rotate', record })}
                            >
                              <Icon name="rotate" size={16} />
                            </button>
                            <button
                              type="button"
                              className="icon-button"
                              aria-label={`Sign ${record.name} out everywhere`}
                              title="Sign out everywhere: end its browser sessions and access tokens"
                              onClick={() => setModal({ kind: 'endSessions', record })}
                            >
                              <Icon name="logout" size={16} />
                            </button>
                            <button
                              type="button"
                              className="icon-button"
                              aria-label={record.active ? `Deactivate ${record.name}` : `Activate ${record.name}`}
                              title={record.active ? 'Deactivate' : 'Activate'}
                              onClick={() =>
                                record.active ? setModal({ kind: 'deactivate', record }) : setActive(record, true)
                              }
                            >
                              <Icon name="power" size={16} />
                            </button>
                            <button
                              type="button"
                              className="icon-button icon-button-danger"
                              aria-label={`Delete ${record.name}`}
                              title="Delete"
                              onClick={() => setModal({ kind: 'delete', record })}
                            >
                              <Icon name="trash" size={16} />
                            </button>
                          </div>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}

      {modal?.kind === 'create' && (
        <CreateKeyDialog
          onClose={close}
          onCreated={(record) => {
            keys.set([...(keys.resource.data ?? []), withoutSecret(record)]);
            setModal({ kind: 'secret', record, rotated: false });
          }}
        />
      )}
      {modal?.kind === 'edit' && (
        <EditKeyDialog
          record={modal.record}
          onClose={close}
          onSaved={(record) => {
            replace(record);
            close();
            toast(`Saved ${record.name}`);
          }}
        />
      )}
      {modal?.kind === 'secret' && <SecretDialog record={modal.record} rotated={modal.rotated} onClose={close} />}
      {modal?.kind === 'rotate' && (
        <ConfirmDialog
          title={`Rotate ${modal.record.name}?`}
          confirmLabel="Rotate key"
          busy={busy}
          error={actionError}
          onClose={close}
          onConfirm={() => {
            const record = modal.record;
            run(async () => {
              const rotated = await gate.keys.rotate(record.id);
              replace(withoutSecret(rotated));
              setModal({ kind: 'secret', record: rotated, rotated: true });
            });
          }}
        >
          <p>
            A new secret replaces <code>{modal.record.hint}</code>. The old one stops working at once, and its browser
            sessions and WebSockets close. Limits and history stay.
          </p>
        </ConfirmDialog>
      )}
      {modal?.kind === 'endSessions' && (
        <ConfirmDialog
          title={`Sign ${modal.record.name} out everywhere?`}
          confirmLabel="Sign out everywhere"
          busy={busy}
          error={actionError}
          onClose={close}
          onConfirm={() => {
            const record = modal.record;
            run(async () => {
              replace(await gate.keys.endSessions(record.id));
              close();
              toast(`Signed ${record.name} out everywhere`);
            });
          }}
        >
          <p>
            Every browser session and access token made with this key ends now, also after a restart, and their
            WebSockets close. The key itself keeps working: sign in with it again.
          </p>
        </ConfirmDialog>
      )}
      {modal?.kind === 'deactivate' && (
        <ConfirmDialog
          title={`Deactivate ${modal.record.name}?`}
          confirmLabel="Deactivate"
          danger
          busy={busy}
          error={actionError}
          onClose={close}
          onConfirm={() => setActive(modal.record, false)}
        >
          <p>
            The key stops working at once and its sessions close. You can activate it again later; the secret stays the
            same.
          </p>
        </ConfirmDialog>
      )}
      {modal?.kind === 'delete' && (
        <ConfirmDialog
          title={`Delete ${modal.record.name}?`}
          confirmLabel="Delete key"
          danger
          busy={busy}
          error={actionError}
          onClose={close}
          onConfirm={() => {
            const record = modal.record;
            run(async () => {
              await gate.keys.remove(record.id);
              keys.set((keys.resource.data ?? []).filter((k) => k.id !== record.id));
              close();
              toast(`Deleted ${record.name}`);
            });
          }}
        >
          <p>
            <strong>{modal.record.name}</strong> (<code>{modal.record.hint}</code>) stops working at once and cannot be
            brought back. Its usage history stays in the Usage page.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
