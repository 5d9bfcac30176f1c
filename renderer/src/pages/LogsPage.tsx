import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { errorMessage, isAbort } from '../api/client.js';
import { gate } from '../api/gate.js';
import type { LogCoverage, RequestLogLine } from '../api/types.js';
import { Dialog } from '../components/Dialog.js';
import { Field } from '../components/Field.js';
import { Icon } from '../components/Icon.js';
import { PageHeader } from '../components/PageHeader.js';
import { EmptyState, ErrorState, Loading, StatusDot } from '../components/States.js';
import { formatBytes, formatDateTime, formatDuration, formatNumber, formatTime, plural } from '../lib/format.js';
import {
  appendOlder,
  isFiltered,
  LOG_KEEP,
  logQuery,
  matchesPath,
  mergeLogLines,
  pathFilterError,
  STATUS_CHOICES,
} from '../lib/logFilters.js';
import { hrefOf } from '../lib/router.js';
import { useDebounced } from '../lib/useDebounced.js';
import { useResource } from '../lib/useResource.js';

type Connection = 'connecting' | 'live' | 'reconnecting' | 'closed';

export function StatusBadge({ status }: { status: number }) {
  const tone = status >= 500 ? 'danger' : status >= 400 ? 'warn' : status >= 300 ? 'info' : 'ok';
  return <span className={`status-code status-code-${tone}`}>{status}</span>;
}

export function LogsPage() {
  const keys = useResource((signal) => gate.keys.list(signal), []);
  const [key, setKey] = useState('');
  const [status, setStatus] = useState('');
  const [pathInput, setPathInput] = useState('');
  const path = useDebounced(pathInput.trim());
  const pathError = pathFilterError(path);
  const filters = { key, status, path };
  const query = logQuery(filters);

  const [items, setItems] = useState<RequestLogLine[]>([]);
  const [history, setHistory] = useState<{
    state: 'loading' | 'ready' | 'error';
    error?: unknown;
    next: string | null;
  }>({
    state: 'loading',
    next: null,
  });
  const [coverage, setCoverage] = useState<LogCoverage>();
  const [olderBusy, setOlderBusy] = useState(false);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(false);
  const buffered = useRef<RequestLogLine[]>([]);
  const [bufferedCount, setBufferedCount] = useState(0);
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  const [selected, setSelected] = useState<RequestLogLine>();

  // History first (newest page), then the live stream on top of it.
  useEffect(() => {
    const controller = new AbortController();
    setItems([]);
    setHistory({ state: 'loading', next: null });
    buffered.current = [];
    setBufferedCount(0);
    gate.logs.list({ ...query, limit: 100 }, controller.signal).then(
      (page) => {
        setItems((current) => mergeLogLines(current, page.items));
        setHistory({ state: 'ready', next: page.next });
        setCoverage(page.coverage);
      },
      (error: unknown) => {
        if (!isAbort(error)) setHistory({ state: 'error', error, next: null });
      }
    );

    setConnection('connecting');
    const source = new EventSource(gate.logs.streamUrl({ key: query.key, status: query.status }));
    source.onopen = () => setConnection('live');
    source.onerror = () => setConnection(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
    source.addEventListener('request', (event: MessageEvent<string>) => {
      let line: RequestLogLine;
      try {
        line = JSON.parse(event.data) as RequestLogLine;
      } catch {
        return;
      }
      if (!matchesPath(line, query.path)) return;
      if (pausedRef.current) {
        buffered.current = [line, ...buffered.current].slice(0, LOG_KEEP);
        setBufferedCount(buffered.current.length);
        return;
      }
      setItems((current) => mergeLogLines([line], current));
      setFresh((current) => new Set([...current, line.requestId].slice(-50)));
    });
    return () => {
      controller.abort();
      source.close();
    };
  }, [query.key, query.status, query.path]);

  const togglePause = useCallback(() => {
    const next = !pausedRef.current;
    pausedRef.current = next;
    setPaused(next);
    if (!next && buffered.current.length) {
      const lines = buffered.current;
      buffered.current = [];
      setBufferedCount(0);
      setItems((current) => mergeLogLines(lines, current));
    }
  }, []);

  const loadOlder = (): void => {
    if (!history.next) return;
    setOlderBusy(true);
    gate.logs.list({ ...query, limit: 100, before: history.next }).then(
      (page) => {
        setOlderBusy(false);
        setItems((current) => appendOlder(current, page.items));
        setHistory({ state: 'ready', next: page.next });
      },
      (error: unknown) => {
        setOlderBusy(false);
        setHistory({ state: 'error', error, next: history.next });
      }
    );
  };

  const keyNames = useMemo(() => new Map((keys.resource.data ?? []).map((k) => [k.id, k.name])), [keys.resource.data]);
  const filtered = isFiltered(filters);

  return (
    <>
      <PageHeader
        title="Logs"
        description="Every request through the gate, live. Keys and tokens never appear here."
        actions={
          <>
            <ConnectionBadge connection={connection} paused={paused} />
            <button type="button" className="button" onClick={togglePause} aria-pressed={paused}>
              <Icon name={paused ? 'play' : 'pause'} size={16} />
              {paused ? `Resume${bufferedCount ? ` (${bufferedCount} new)` : ''}` : 'Pause'}
            </button>
          </>
        }
      />
      <div className="card filters" role="group" aria-label="Filters">
        <Field label="Key">
          <select value={key} onChange={(event) => setKey(event.target.value)}>
            <option value="">All keys</option>
            {(keys.resource.data ?? []).map((record) => (
              <option key={record.id} value={record.id}>
                {record.name}
              </option>
            ))}
            <option value="anonymous">Anonymous</option>
          </select>
        </Field>
        <Field label="Status">
          <select value={status} onChange={(event) => setStatus(event.target.value)}>
            {STATUS_CHOICES.map((choice) => (
              <option key={choice} value={choice}>
                {choice === '' ? 'Any status' : choice}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Path starts with" error={pathError} className="grow">
          <input
            type="search"
            placeholder="/prompt"
            value={pathInput}
            onChange={(event) => setPathInput(event.target.value)}
          />
        </Field>
        {filtered && (
          <button
            type="button"
            className="button button-ghost"
            onClick={() => {
              setKey('');
              setStatus('');
              setPathInput('');
            }}
          >
            Clear filters
          </button>
        )}
      </div>

      {coverage && <CoverageNote coverage={coverage} />}

      <section className="card card-flush" aria-label="Requests">
        {history.state === 'loading' && items.length === 0 && <Loading label="Loading recent requests…" />}
        {history.state === 'error' && items.length === 0 && <ErrorState error={history.error} />}
        {history.state !== 'loading' && items.length === 0 && history.state !== 'error' && (
          <EmptyState title={filtered ? 'No request matches these filters' : 'No requests yet'}>
            {connection === 'live' ? 'New requests appear here as they finish.' : 'Waiting for the live stream…'}
          </EmptyState>
        )}
        {items.length > 0 && (
          <div className="table-wrap">
            <table className="table logs-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Status</th>
                  <th scope="col">Request</th>
                  <th scope="col">Key</th>
                  <th scope="col" className="numeric">
                    Duration
                  </th>
                  <th scope="col" className="numeric">
                    Size
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((line) => (
                  <tr
                    key={line.requestId}
                    className={fresh.has(line.requestId) ? 'is-new is-clickable' : 'is-clickable'}
                    onClick={() => setSelected(line)}
                  >
                    <td className="nowrap">
                      <button
                        type="button"
                        className="row-link"
                        aria-label={`Details of ${line.method} ${line.path} at ${formatTime(line.time)}`}
                        onClick={(event) => {
                          event.stopPropagation();
                          setSelected(line);
                        }}
                      >
                        <time dateTime={line.time}>{formatTime(line.time)}</time>
                      </button>
                    </td>
                    <td>
                      <StatusBadge status={line.status} />
                    </td>
                    <td className="request-cell">
                      <span className="method">{line.kind === 'ws' ? 'WS' : line.method}</span>
                      <code className="path" title={line.path}>
                        {line.path}
                      </code>
                      {line.refusal && <span className="badge badge-warn badge-small">{line.refusal}</span>}
                    </td>
                    <td className="nowrap">
                      {line.keyId ? (
                        (keyNames.get(line.keyId) ?? line.keyName ?? line.keyId)
                      ) : (
                        <span className="muted">anonymous</span>
                      )}
                    </td>
                    <td className="numeric nowrap">{formatDuration(line.durationMs)}</td>
                    <td className="numeric nowrap">{formatBytes(line.bytesOut)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {items.length > 0 && (
          <div className="table-footer">
            <span className="muted small">
              {items.length} requests shown{items.length >= LOG_KEEP ? ' (the newest 500)' : ''}
            </span>
            {history.state === 'error' && <span className="form-error">{errorMessage(history.error)}</span>}
            {history.next && items.length < LOG_KEEP && (
              <button type="button" className="button button-small" onClick={loadOlder} disabled={olderBusy}>
                {olderBusy ? 'Loading…' : 'Load older'}
              </button>
            )}
          </div>
        )}
      </section>

      {selected && (
        <RequestDrawer
          line={selected}
          keyName={selected.keyId ? keyNames.get(selected.keyId) : undefined}
          onClose={() => setSelected(undefined)}
        />
      )}
    </>
  );
}

function ConnectionBadge({ connection, paused }: { connection: Connection; paused: boolean }) {
  if (paused) return <StatusDot tone="warn" label="Paused" />;
  switch (connection) {
    case 'live':
      return <StatusDot tone="ok" label="Live" />;
    case 'connecting':
      return <StatusDot tone="muted" label="Connecting…" />;
    case 'reconnecting':
      return <StatusDot tone="warn" label="Reconnecting…" />;
    case 'closed':
      return <StatusDot tone="danger" label="Disconnected" />;
  }
}

function RequestDrawer({
  line,
  keyName,
  onClose,
}: {
  line: RequestLogLine;
  keyName: string | undefined;
  onClose: () => void;
}) {
  const rows: [string, ReactNode][] = [
    ['Time', formatDateTime(line.time)],
    ['Status', <StatusBadge key="s" status={line.status} />],
    ['Method', line.kind === 'ws' ? 'WebSocket' : line.method],
    ['Path', <code key="p">{line.path}</code>],
    ['Route class', line.routeClass ?? '—'],
    ['Key', line.keyId ? `${keyName ?? line.keyName ?? '(deleted)'} · ${line.keyId}` : 'anonymous'],
    ['Client address', <code key="c">{line.clientIp}</code>],
    ['Duration', formatDuration(line.durationMs)],
    ['ComfyUI answered after', line.upstreamMs === null ? 'The gate answered itself' : formatDuration(line.upstreamMs)],
    ['Received', formatBytes(line.bytesIn)],
    ['Sent', formatBytes(line.bytesOut)],
  ];
  if (line.refusal) rows.push(['Refused because', <code key="r">{line.refusal}</code>]);
  if (line.promptId) rows.push(['Prompt id', <code key="pid">{line.promptId}</code>]);
  rows.push(['Request id', <code key="id">{line.requestId}</code>]);
  return (
    <Dialog drawer title={`${line.kind === 'ws' ? 'WS' : line.method} ${line.path}`} onClose={onClose}>
      <dl className="detail-list">
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </Dialog>
  );
}

/** How far back "Load older" can go: the oldest line the gate still keeps, and why it keeps no more. */
function CoverageNote({ coverage }: { coverage: LogCoverage }) {
  const { days, maxMegabytes } = coverage.retention;
  return (
    <p className="muted" role="note">
      {coverage.oldestTime
        ? `The log reaches back to ${formatDateTime(coverage.oldestTime)}. `
        : 'The log is empty so far. '}
      It keeps {plural(days, 'day')} of requests, at most {formatNumber(maxMegabytes)} MB; older lines are dropped first
      (
      <a className="link" href={hrefOf('settings')}>
        Settings
      </a>
      ).
    </p>
  );
}
