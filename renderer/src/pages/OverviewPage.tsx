import { gate } from '../api/gate.js';
import type { RequestLogLine, StatusReport } from '../api/types.js';
import { CopyField } from '../components/CopyButton.js';
import { Icon } from '../components/Icon.js';
import { ModeSwitch } from '../components/ModeSwitch.js';
import { SharingSwitch } from '../components/SharingSwitch.js';
import { Card, PageHeader } from '../components/PageHeader.js';
import { EmptyState, ErrorState, Loading, StatusDot } from '../components/States.js';
import { formatBytes, formatNumber, formatRelative, plural } from '../lib/format.js';
import { useResource } from '../lib/useResource.js';
import { hrefOf } from '../lib/router.js';
import { StatusBadge } from './LogsPage.js';

const LOOPBACK = /^(127\.|::1$|localhost$|\[::1\]$)/;

export function isExposed(host: string): boolean {
  return !LOOPBACK.test(host);
}

export function OverviewPage() {
  const status = useResource((signal) => gate.status(signal), [], 5000);
  const recent = useResource((signal) => gate.logs.list({ limit: 6 }, signal), [], 5000);
  const data = status.resource.data;

  return (
    <>
      <PageHeader
        title="Overview"
        description="How ComfyUI and the gate are doing right now."
        actions={
          <a className="button" href="/" target="_blank" rel="noopener">
            <Icon name="external" size={16} /> Open ComfyUI
          </a>
        }
      />
      {status.resource.state === 'loading' && <Loading label="Checking ComfyUI and the gate…" />}
      {status.resource.state === 'error' && !data && (
        <ErrorState error={status.resource.error} onRetry={status.reload} />
      )}
      {data && (
        <div className="stack-lg">
          {status.resource.state === 'error' && (
            <ErrorState title="The last refresh failed" error={status.resource.error} onRetry={status.reload} />
          )}
          {data.warnings.length > 0 && (
            <div className="warnings" role="region" aria-label="Warnings">
              {data.warnings.map((warning) => (
                <div key={warning} className="banner banner-warn">
                  <Icon name="alert" size={18} />
                  <span>{warning}</span>
                </div>
              ))}
            </div>
          )}
          <div className="grid grid-3">
            <ComfyCard status={data} />
            <TodayCard status={data} />
            <TeamCard status={data} />
          </div>
          {data.replicas !== undefined && <ReplicasCard replicas={data.replicas} />}
          <div className="grid grid-2-1">
            <Card id="protection" title="Protection" actions={<ListenBadge status={data} />}>
              <ModeSwitch
                mode={data.mode}
                exposed={isExposed(data.listen.host)}
                onChanged={(mode) => status.set({ ...data, mode })}
              />
              <h3 className="card-subtitle">Who can connect</h3>
              <SharingSwitch
                network={data.network}
                onChanged={(report) =>
                  status.set({ ...data, network: report.network, listen: report.listen, share: report.share })
                }
              />
              <div className="card-note share-link" data-testid="share-link">
                {data.share.reachableFromLan ? (
                  <>
                    Teammates open <CopyField value={data.share.url} what="share link" />
                    {data.share.urls.length > 1 && (
                      <span className="muted small"> also: {data.share.urls.slice(1).join(' · ')}</span>
                    )}
                  </>
                ) : (
                  <>{data.share.note}</>
                )}
              </div>
              {data.tls && (
                <div className="card-note share-link" data-testid="certificate">
                  HTTPS certificate (SHA-256), for teammates to check:{' '}
                  <CopyField value={data.tls.fingerprint256} what="certificate fingerprint" />
                </div>
              )}
              <p className="card-note">
                The exact address and port, HTTPS, public paths, limits and the anonymous tier are in{' '}
                <a className="link" href={hrefOf('settings')}>
                  Settings
                </a>
                .
              </p>
            </Card>
            <Card
              id="recent"
              title="Recent requests"
              actions={
                <a className="link" href={hrefOf('logs')}>
                  Live logs →
                </a>
              }
            >
              <RecentRequests lines={recent.resource.data?.items} error={recent.resource.error} />
            </Card>
          </div>
        </div>
      )}
    </>
  );
}

function ComfyCard({ status }: { status: StatusReport }) {
  const { upstream, backends } = status;
  if (backends.length > 1) return <BackendsCard backends={backends} />;
  const devices = backends[0]?.devices ?? [];
  return (
    <Card id="comfy" title="ComfyUI">
      <div className="metric-head">
        <StatusDot
          tone={upstream.reachable ? 'ok' : 'danger'}
          label={upstream.reachable ? 'Reachable' : 'Not reachable'}
        />
      </div>
      <dl className="facts">
        <div>
          <dt>Address</dt>
          <dd>
            <code>{upstream.url}</code>
          </dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{upstream.version ?? '—'}</dd>
        </div>
        <div>
          <dt>Queue</dt>
          <dd>{upstream.queueRemaining === null ? '—' : plural(upstream.queueRemaining, 'prompt')}</dd>
        </div>
        {devices.length > 0 && (
          <div>
            <dt>GPU</dt>
            <dd>{devices.join(', ')}</dd>
          </div>
        )}
      </dl>
    </Card>
  );
}

/** Several gates sharing Redis (`--redis`): each replica, whether it still beats, and which one answered. */
function ReplicasCard({ replicas }: { replicas: NonNullable<StatusReport['replicas']> }) {
  const live = replicas.filter((replica) => replica.live).length;
  return (
    <Card id="replicas" title="Gate replicas">
      <div className="metric-head">
        <StatusDot
          tone={replicas.length === 0 ? 'danger' : live === replicas.length ? 'ok' : 'warn'}
          label={replicas.length === 0 ? 'Redis does not answer' : `${live} of ${replicas.length} live`}
        />
      </div>
      {replicas.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>Replica</th>
                <th>Address</th>
                <th>State</th>
                <th>Started</th>
              </tr>
            </thead>
            <tbody>
              {replicas.map((replica) => (
                <tr key={replica.id}>
                  <td>
                    {replica.host} · pid {replica.pid}
                    {replica.self ? ' (this gate)' : ''}
                  </td>
                  <td>
                    <code>{replica.url}</code>
                  </td>
                  <td>
                    <StatusDot tone={replica.live ? 'ok' : 'danger'} label={replica.live ? 'Live' : 'Not beating'} />
                  </td>
                  <td>
                    <time dateTime={replica.startedAt}>{formatRelative(replica.startedAt)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

/** Several ComfyUIs behind the gate (`--upstream` repeated): each one's health, queue and GPU. */
function BackendsCard({ backends }: { backends: StatusReport['backends'] }) {
  const reachable = backends.filter((backend) => backend.reachable).length;
  return (
    <Card id="comfy" title="ComfyUI backends">
      <div className="metric-head">
        <StatusDot
          tone={reachable === backends.length ? 'ok' : reachable === 0 ? 'danger' : 'warn'}
          label={`${reachable} of ${backends.length} reachable`}
        />
      </div>
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th>Backend</th>
              <th>Address</th>
              <th>State</th>
              <th>Queue</th>
              <th>GPU</th>
            </tr>
          </thead>
          <tbody>
            {backends.map((backend) => (
              <tr key={backend.url}>
                <td>
                  {backend.label}
                  {backend.weight === 1 ? '' : ` (weight ${backend.weight})`}
                </td>
                <td>
                  <code>{backend.url}</code>
                </td>
                <td>
                  <StatusDot
                    tone={backend.reachable ? 'ok' : 'danger'}
                    label={backend.reachable ? 'Reachable' : 'Not reachable'}
                  />
                </td>
                <td>{backend.reachable ? `${backend.running} running · ${backend.pending} waiting` : '—'}</td>
                <td>{backend.devices.join(', ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function TodayCard({ status }: { status: StatusReport }) {
  const { today } = status;
  const errorRate = today.requests ? Math.round((today.errors / today.requests) * 100) : 0;
  return (
    <Card id="today" title="Today">
      <div className="metrics">
        <div className="metric">
          <span className="metric-value">{formatNumber(today.requests)}</span>
          <span className="metric-label">requests</span>
        </div>
        <div className="metric">
          <span className="metric-value">{formatNumber(today.prompts)}</span>
          <span className="metric-label">prompts</span>
        </div>
        <div className="metric">
          <span className={today.errors ? 'metric-value tone-danger' : 'metric-value'}>
            {formatNumber(today.errors)}
          </span>
          <span className="metric-label">errors{today.requests ? ` · ${errorRate}%` : ''}</span>
        </div>
      </div>
      <p className="muted small">
        {formatBytes(today.bytesIn)} in · {formatBytes(today.bytesOut)} out ·{' '}
        {plural(today.wsSessions, 'WebSocket session')}
      </p>
    </Card>
  );
}

function TeamCard({ status }: { status: StatusReport }) {
  const { keys } = status;
  return (
    <Card
      id="team"
      title="Teammates"
      actions={
        <a className="link" href={hrefOf('keys')}>
          Keys →
        </a>
      }
    >
      <div className="metrics">
        <div className="metric">
          <span className="metric-value">{formatNumber(keys.usedRecently)}</span>
          <span className="metric-label">active now</span>
        </div>
        <div className="metric">
          <span className="metric-value">{formatNumber(keys.active)}</span>
          <span className="metric-label">valid keys</span>
        </div>
        <div className="metric">
          <span className="metric-value">{formatNumber(status.openSockets)}</span>
          <span className="metric-label">open sockets</span>
        </div>
      </div>
      <p className="muted small">
        {plural(keys.total, 'key')} in all; “active now” used the gate in the last 5 minutes.
      </p>
    </Card>
  );
}

function ListenBadge({ status }: { status: StatusReport }) {
  const exposed = status.network;
  return (
    <span
      className={exposed ? 'badge badge-info' : 'badge'}
      title={`Listening on ${status.listen.host}:${status.listen.port}`}
    >
      {exposed ? 'Shared on your network' : 'This computer only'} · {status.listen.host}:{status.listen.port}
    </span>
  );
}

function RecentRequests({ lines, error }: { lines: RequestLogLine[] | undefined; error: unknown }) {
  if (!lines && error) return <ErrorState error={error} />;
  if (!lines) return <Loading inline />;
  if (lines.length === 0)
    return (
      <EmptyState title="No requests yet">
        Requests through the gate appear here as soon as someone uses ComfyUI.
      </EmptyState>
    );
  return (
    <ul className="recent-list">
      {lines.map((line) => (
        <li key={line.requestId}>
          <StatusBadge status={line.status} />
          <span className="recent-method">{line.method}</span>
          <code className="recent-path" title={line.path}>
            {line.path}
          </code>
          <span className="recent-who">{line.keyName ?? 'anonymous'}</span>
          <time className="recent-time" dateTime={line.time}>
            {formatRelative(line.time)}
          </time>
        </li>
      ))}
    </ul>
  );
}
