import { useMemo, useState } from 'react';
import { gate } from '../api/gate.js';
import type { AllUsageReport, KeyRecord } from '../api/types.js';
import { Field } from '../components/Field.js';
import { Card, PageHeader } from '../components/PageHeader.js';
import { EmptyState, ErrorState, Loading } from '../components/States.js';
import { TimeChart, type ChartSeries } from '../components/TimeChart.js';
import {
  daysBetween,
  formatBytes,
  formatDay,
  formatDuration,
  formatNumber,
  localDay,
  shiftDay,
} from '../lib/format.js';
import { useResource } from '../lib/useResource.js';

const ANONYMOUS = 'anonymous';
const RANGES = [7, 14, 30, 90] as const;
const KEY_COLORS = ['--chart-1', '--chart-4', '--chart-5', '--chart-6', '--chart-7'];

interface KeyTotals {
  keyId: string;
  name: string;
  requests: number;
  prompts: number;
  errors: number;
  bytes: number;
  durationMs: number;
  gpuSeconds: number;
}

function nameOf(keyId: string, keyName: string | null, keys: Map<string, KeyRecord>): string {
  if (keyId === ANONYMOUS) return 'Anonymous';
  return keys.get(keyId)?.name ?? keyName ?? `${keyId} (deleted)`;
}

export function UsagePage() {
  const today = localDay();
  const [from, setFrom] = useState(shiftDay(today, -13));
  const [to, setTo] = useState(today);
  const [key, setKey] = useState('');
  const report = useResource((signal) => gate.usage.all({ from, to }, signal), [from, to], 10_000);
  const keys = useResource((signal) => gate.keys.list(signal), []);
  const rangeError = from > to ? 'The start is after the end' : undefined;

  const keyMap = useMemo(() => new Map((keys.resource.data ?? []).map((k) => [k.id, k])), [keys.resource.data]);
  const data = report.resource.data;
  const view = useMemo(() => (data ? summarize(data, key, keyMap) : undefined), [data, key, keyMap]);
  const activeRange = RANGES.find((days) => to === today && from === shiftDay(today, -(days - 1)));

  return (
    <>
      <PageHeader title="Usage" description="Requests, prompts, errors and GPU time per day, for every key or one." />
      <div className="card filters" role="group" aria-label="Range and key">
        <div className="segmented" role="group" aria-label="Quick range">
          {RANGES.map((days) => (
            <button
              key={days}
              type="button"
              aria-pressed={activeRange === days}
              className={activeRange === days ? 'is-selected' : undefined}
              onClick={() => {
                setTo(today);
                setFrom(shiftDay(today, -(days - 1)));
              }}
            >
              {days} days
            </button>
          ))}
        </div>
        <Field label="From" error={rangeError}>
          <input
            type="date"
            value={from}
            max={to}
            onChange={(event) => event.target.value && setFrom(event.target.value)}
          />
        </Field>
        <Field label="To">
          <input
            type="date"
            value={to}
            max={today}
            onChange={(event) => event.target.value && setTo(event.target.value)}
          />
        </Field>
        <Field label="Key">
          <select value={key} onChange={(event) => setKey(event.target.value)}>
            <option value="">All keys</option>
            {(keys.resource.data ?? []).map((record) => (
              <option key={record.id} value={record.id}>
                {record.name}
              </option>
            ))}
            <option value={ANONYMOUS}>Anonymous</option>
          </select>
        </Field>
      </div>

      {report.resource.state === 'loading' && <Loading label="Adding up usage…" />}
      {report.resource.state === 'error' && !data && (
        <ErrorState error={report.resource.error} onRetry={report.reload} />
      )}
      {data && view && (
        <div className="stack-lg">
          <div className="grid grid-5 totals">
            <Total label="Requests" value={formatNumber(view.totals.requests)} />
            <Total
              label="Prompts"
              value={formatNumber(view.totals.prompts)}
              detail={`${formatGpuTime(view.totals.gpuSeconds)} of GPU time`}
            />
            <Total
              label="Errors"
              value={formatNumber(view.totals.errors)}
              detail={
                view.totals.requests
                  ? `${((view.totals.errors / view.totals.requests) * 100).toFixed(1)}% of requests`
                  : undefined
              }
              danger={view.totals.errors > 0}
            />
            <Total label="Data" value={formatBytes(view.totals.bytes)} detail="in and out" />
            <Total
              label="Avg. response"
              value={view.totals.requests ? formatDuration(view.totals.durationMs / view.totals.requests) : '—'}
            />
          </div>
          {view.totals.requests === 0 && view.totals.gpuSeconds === 0 ? (
            <div className="card">
              <EmptyState title="No usage in this range">
                {key ? 'This key made no requests between these days.' : 'Nobody used the gate between these days.'}
              </EmptyState>
            </div>
          ) : (
            <>
              <Card
                id="daily"
                title={key ? `Per day · ${nameOf(key, null, keyMap)}` : 'Per day · all keys'}
                actions={<span className="muted small">{`${formatDay(data.from)} – ${formatDay(data.to)}`}</span>}
              >
                <TimeChart
                  days={view.days}
                  series={view.daily}
                  label={`Requests, prompts and errors per day, ${data.from} to ${data.to}`}
                />
              </Card>
              {view.gpu.length > 0 && (
                <Card
                  id="gpu"
                  title={key ? `GPU minutes per day · ${nameOf(key, null, keyMap)}` : 'GPU minutes per day · top keys'}
                  actions={<span className="muted small">ComfyUI’s execution time of each key’s prompts</span>}
                >
                  <TimeChart
                    days={view.days}
                    series={view.gpu}
                    height={200}
                    label={
                      key ? 'Minutes of GPU time per day for this key' : 'Minutes of GPU time per day for the top keys'
                    }
                  />
                </Card>
              )}
              {!key && view.perKey.length > 0 && (
                <Card id="per-key" title="Requests per day · top keys">
                  <TimeChart
                    days={view.days}
                    series={view.perKey}
                    height={200}
                    label="Requests per day for the most active keys"
                  />
                </Card>
              )}
            </>
          )}
          {!key && view.top.length > 0 && (
            <Card id="top" title="Top keys" className="card-flush">
              <div className="table-wrap">
                <table className="table">
                  <thead>
                    <tr>
                      <th scope="col">Key</th>
                      <th scope="col" className="numeric">
                        Requests
                      </th>
                      <th scope="col" className="share-col">
                        <span className="visually-hidden">Share of requests</span>
                      </th>
                      <th scope="col" className="numeric">
                        Prompts
                      </th>
                      <th scope="col" className="numeric">
                        GPU time
                      </th>
                      <th scope="col" className="numeric">
                        Errors
                      </th>
                      <th scope="col" className="numeric">
                        Data
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {view.top.map((row) => (
                      <tr key={row.keyId}>
                        <td>
                          <button type="button" className="link-button" onClick={() => setKey(row.keyId)}>
                            {row.name}
                          </button>
                        </td>
                        <td className="numeric">{formatNumber(row.requests)}</td>
                        <td className="share-col">
                          <span className="share-bar" aria-hidden="true">
                            <span style={{ width: `${(row.requests / (view.top[0]?.requests || 1)) * 100}%` }} />
                          </span>
                        </td>
                        <td className="numeric">{formatNumber(row.prompts)}</td>
                        <td className="numeric">{formatGpuTime(row.gpuSeconds)}</td>
                        <td className={row.errors ? 'numeric tone-danger' : 'numeric'}>{formatNumber(row.errors)}</td>
                        <td className="numeric">{formatBytes(row.bytes)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </Card>
          )}
        </div>
      )}
    </>
  );
}

function Total({
  label,
  value,
  detail,
  danger,
}: {
  label: string;
  value: string;
  detail?: string | undefined;
  danger?: boolean;
}) {
  return (
    <div className="card total">
      <span className="metric-label">{label}</span>
      <span className={danger ? 'metric-value tone-danger' : 'metric-value'}>{value}</span>
      {detail && <span className="muted small">{detail}</span>}
    </div>
  );
}

function formatGpuTime(seconds: number): string {
  return seconds === 0 ? '0 s' : formatDuration(seconds * 1000);
}

function summarize(report: AllUsageReport, key: string, keys: Map<string, KeyRecord>) {
  const days = daysBetween(report.from, report.to);
  const index = new Map(days.map((day, i) => [day, i]));
  const requests = days.map(() => 0);
  const prompts = days.map(() => 0);
  const errors = days.map(() => 0);
  const gpuMinutes = days.map(() => 0);
  const byKey = new Map<string, KeyTotals & { perDay: number[]; gpuPerDay: number[] }>();
  const totals = { requests: 0, prompts: 0, errors: 0, bytes: 0, durationMs: 0, gpuSeconds: 0 };
  for (const row of report.days) {
    const i = index.get(row.date);
    let entry = byKey.get(row.keyId);
    if (!entry) {
      entry = {
        keyId: row.keyId,
        name: nameOf(row.keyId, row.keyName, keys),
        requests: 0,
        prompts: 0,
        errors: 0,
        bytes: 0,
        durationMs: 0,
        gpuSeconds: 0,
        perDay: days.map(() => 0),
        gpuPerDay: days.map(() => 0),
      };
      byKey.set(row.keyId, entry);
    }
    entry.requests += row.requests;
    entry.prompts += row.prompts;
    entry.errors += row.errors;
    entry.bytes += row.bytesIn + row.bytesOut;
    entry.durationMs += row.totalDurationMs;
    entry.gpuSeconds += row.gpuSeconds;
    if (i !== undefined) {
      entry.perDay[i] = (entry.perDay[i] ?? 0) + row.requests;
      entry.gpuPerDay[i] = (entry.gpuPerDay[i] ?? 0) + row.gpuSeconds / 60;
    }
    if (key && row.keyId !== key) continue;
    totals.requests += row.requests;
    totals.prompts += row.prompts;
    totals.errors += row.errors;
    totals.bytes += row.bytesIn + row.bytesOut;
    totals.durationMs += row.totalDurationMs;
    totals.gpuSeconds += row.gpuSeconds;
    if (i === undefined) continue;
    gpuMinutes[i] = (gpuMinutes[i] ?? 0) + row.gpuSeconds / 60;
    requests[i] = (requests[i] ?? 0) + row.requests;
    prompts[i] = (prompts[i] ?? 0) + row.prompts;
    errors[i] = (errors[i] ?? 0) + row.errors;
  }
  const top = [...byKey.values()].sort((a, b) => b.requests - a.requests);
  const daily: ChartSeries[] = [
    { label: 'Requests', values: requests, color: '--chart-1', bars: true },
    { label: 'Prompts', values: prompts, color: '--chart-2' },
    { label: 'Errors', values: errors, color: '--chart-3' },
  ];
  const perKey: ChartSeries[] = top.slice(0, KEY_COLORS.length).map((entry, i) => ({
    label: entry.name,
    values: entry.perDay,
    color: KEY_COLORS[i] ?? '--chart-1',
  }));
  const gpu: ChartSeries[] = key
    ? [{ label: 'GPU minutes', values: gpuMinutes, color: '--chart-2', bars: true }]
    : [...byKey.values()]
        .filter((entry) => entry.gpuSeconds > 0)
        .sort((a, b) => b.gpuSeconds - a.gpuSeconds)
        .slice(0, KEY_COLORS.length)
        .map((entry, i) => ({ label: entry.name, values: entry.gpuPerDay, color: KEY_COLORS[i] ?? '--chart-1' }));
  return { days, totals, top: top.slice(0, 10), daily, perKey, gpu };
}
