import type { Logger } from '../appLog/logger.js';
import { localDate, shiftDate, type UsageSharing } from '../usage/usageAggregator.js';
import { emptyDayUsage, type DayUsage, type UsageRow } from '../usage/usageSchema.js';
import type { RedisLink } from './redisLink.js';

const DAYS_KEY = 'comfygate:usage:days';
const dayKey = (date: string): string => `comfygate:usage:${date}`;
/** Today's and yesterday's sums are read again this often; every kept day at start, after an outage and hourly. */
const REFRESH_MS = 5_000;
const FULL_REFRESH_MS = 3_600_000;
/** Past the longest retention the settings allow, a day's sums expire in Redis by themselves. */
const DAY_TTL_SECONDS = 3_660 * 86_400;

/** The counters of a day's hash, one field `keyId metric` each; the maximum is kept as a maximum, the rest added. */
const METRICS = [
  'requests',
  'byStatus.2xx',
  'byStatus.3xx',
  'byStatus.4xx',
  'byStatus.5xx',
  'errors',
  'prompts',
  'bytesIn',
  'bytesOut',
  'totalDurationMs',
  'maxDurationMs',
  'byRouteClass.read',
  'byRouteClass.generate',
  'byRouteClass.manage',
  'byRouteClass.install',
  'wsSessions',
  'gpuSeconds',
] as const;
type Metric = (typeof METRICS)[number];
const METRIC_SET: ReadonlySet<string> = new Set(METRICS);

/** Adds `field value` pairs to a day's hash (HINCRBYFLOAT; a maximum for `… maxDurationMs`) and lists the day. */
const ADD_SCRIPT = `
for i = 1, #ARGV - 2, 2 do
  local field, value = ARGV[i], tonumber(ARGV[i + 1])
  if string.sub(field, -13) == 'maxDurationMs' then
    local current = tonumber(redis.call('HGET', KEYS[1], field) or '0')
    if value > current then redis.call('HSET', KEYS[1], field, ARGV[i + 1]) end
  else
    redis.call('HINCRBYFLOAT', KEYS[1], field, ARGV[i + 1])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[#ARGV - 1])
redis.call('SADD', KEYS[2], ARGV[#ARGV])
return 1
`;

/**
 * Usage as the sum of every gate: each gate adds what its usage.json flushes (its deltas) to a hash per day in
 * Redis, and reads the sums back, so the dashboard's usage on any gate shows all of them. While Redis is away the
 * deltas wait and go when it is back; meanwhile the last sums read (plus this gate's new counts) are shown.
 */
export class SharedUsage implements UsageSharing {
  /** date → key id → every gate's counts, as last read (plus this gate's own added since). */
  #sums = new Map<string, Map<string, DayUsage>>();
  /** Counts Redis did not take yet: `date keyId` → counts. */
  readonly #unsent = new Map<string, UsageRow>();
  /** Adds made: a read that started before one of them may miss it, so it is not adopted. */
  #adds = 0;
  #timer: NodeJS.Timeout | undefined;
  #lastFull = 0;

  constructor(
    private readonly link: RedisLink,
    private readonly retentionDays: () => number,
    private readonly logger: Logger
  ) {
    link.events.on('up', () => {
      this.#resend();
      void this.refresh(true);
    });
  }

  /** Reads every kept day, then keeps the recent ones fresh until close(). */
  async start(): Promise<void> {
    if (this.link.online) await this.refresh(true);
    this.#timer = setInterval(() => void this.refresh(Date.now() - this.#lastFull > FULL_REFRESH_MS), REFRESH_MS);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  added(rows: readonly UsageRow[]): void {
    this.#adds++;
    for (const row of rows) addInto(this.#row(this.#sums, row.date, row.keyId), row);
    this.#send(rows);
  }

  sums(): ReadonlyMap<string, ReadonlyMap<string, DayUsage>> {
    return this.#sums;
  }

  /** Reads the sums of Redis: today's and yesterday's, or every day it lists. */
  async refresh(full = false): Promise<void> {
    if (!this.link.online) return;
    const adds = this.#adds;
    const today = localDate(Date.now());
    const oldest = shiftDate(today, -(this.retentionDays() - 1));
    try {
      const dates = full
        ? (await this.link.commands.sMembers(DAYS_KEY)).filter((date) => date >= oldest)
        : [shiftDate(today, -1), today];
      const hashes = await Promise.all(dates.map((date) => this.link.commands.hGetAll(dayKey(date))));
      if (adds !== this.#adds) return;
      const read = full ? new Map<string, Map<string, DayUsage>>() : new Map(this.#sums);
      dates.forEach((date, i) => {
        read.delete(date);
        for (const [field, value] of Object.entries(hashes[i]!)) {
          const space = field.indexOf(' ');
          const metric = field.slice(space + 1);
          const amount = Number(value);
          if (space <= 0 || !METRIC_SET.has(metric) || !Number.isFinite(amount)) continue;
          setMetric(this.#row(read, date, field.slice(0, space)), metric as Metric, amount);
        }
      });
      for (const row of this.#unsent.values()) addInto(this.#row(read, row.date, row.keyId), row);
      this.#sums = read;
      if (full) this.#lastFull = Date.now();
    } catch (error) {
      this.logger.debug({ err: error }, 'could not read the shared usage');
    }
  }

  #send(rows: readonly UsageRow[]): void {
    const keep = (): void => {
      for (const row of rows) {
        const id = `${row.date} ${row.keyId}`;
        const unsent = this.#unsent.get(id);
        if (unsent === undefined)
          this.#unsent.set(id, { ...emptyDayUsage(), date: row.date, keyId: row.keyId, ...copy(row) });
        else addInto(unsent, row);
      }
    };
    if (!this.link.online) return keep();
    const byDate = new Map<string, string[]>();
    for (const row of rows) {
      const args = byDate.get(row.date) ?? [];
      for (const metric of METRICS) {
        const amount = getMetric(row, metric);
        if (amount !== 0) args.push(`${row.keyId} ${metric}`, String(amount));
      }
      byDate.set(row.date, args);
    }
    const multi = this.link.commands.multi();
    for (const [date, args] of byDate) {
      multi.eval(ADD_SCRIPT, { keys: [dayKey(date), DAYS_KEY], arguments: [...args, String(DAY_TTL_SECONDS), date] });
    }
    multi.exec().then(() => undefined, keep);
  }

  #resend(): void {
    const rows = [...this.#unsent.values()];
    this.#unsent.clear();
    if (rows.length > 0) this.#send(rows);
  }

  #row(map: Map<string, Map<string, DayUsage>>, date: string, keyId: string): DayUsage {
    let byKey = map.get(date);
    if (byKey === undefined) map.set(date, (byKey = new Map<string, DayUsage>()));
    let usage = byKey.get(keyId);
    if (usage === undefined) byKey.set(keyId, (usage = emptyDayUsage()));
    return usage;
  }
}

function copy(usage: DayUsage): DayUsage {
  const out = emptyDayUsage();
  addInto(out, usage);
  return out;
}

function getMetric(usage: DayUsage, metric: Metric): number {
  const dot = metric.indexOf('.');
  if (dot < 0) return usage[metric as Exclude<Metric, `${string}.${string}`>];
  const group = metric.slice(0, dot) as 'byStatus' | 'byRouteClass';
  return (usage[group] as Record<string, number>)[metric.slice(dot + 1)] ?? 0;
}

function setMetric(usage: DayUsage, metric: Metric, amount: number): void {
  const dot = metric.indexOf('.');
  if (dot < 0) usage[metric as Exclude<Metric, `${string}.${string}`>] = amount;
  else
    (usage[metric.slice(0, dot) as 'byStatus' | 'byRouteClass'] as Record<string, number>)[metric.slice(dot + 1)] =
      amount;
}

function addInto(target: DayUsage, source: DayUsage): void {
  for (const metric of METRICS) {
    const amount = getMetric(source, metric);
    if (metric === 'maxDurationMs') setMetric(target, metric, Math.max(getMetric(target, metric), amount));
    else setMetric(target, metric, getMetric(target, metric) + amount);
  }
}
