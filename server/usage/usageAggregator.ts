import { join } from 'node:path';
import type { FinishedRequest, RequestObserver } from '../observe/finishedRequest.js';
import { LockedJsonFile } from '../store/lockedJsonFile.js';
import {
  ANONYMOUS,
  USAGE_FILE,
  emptyDayUsage,
  usageFileSchema,
  usageKeyIdSchema,
  type DayUsage,
  type UsageFile,
  type UsageQuery,
  type UsageReport,
  type UsageRow,
} from './usageSchema.js';

export interface UsageAggregatorOptions {
  /** How often pending counts are written to usage.json. */
  flushIntervalMs?: number;
  /** Days kept, today included; older days are dropped at the next flush. */
  retentionDays?: number;
  /** The clock for "today" (retention and default query range); requests are dated by their own `time`. */
  now?: () => number;
  /** A timed flush failed; its counts stay pending and the next flush tries again. */
  onFlushError?: (error: unknown) => void;
}

/** With several gates (redis/sharedUsage.ts): where flushed counts go, and the sums of every gate a query shows. */
export interface UsageSharing {
  /** What one flush added to usage.json. */
  added(rows: readonly UsageRow[]): void;
  /** Every gate's flushed counts per day and key, as last known. */
  sums(): ReadonlyMap<string, ReadonlyMap<string, DayUsage>>;
}

export const DEFAULT_QUERY_DAYS = 30;
export const DEFAULT_RETENTION_DAYS = 90;
export const DEFAULT_FLUSH_INTERVAL_MS = 5_000;

interface BatchEntry {
  live: DayUsage;
  date: string;
  keyId: string;
  /** What `live` held when the batch was taken; requests observed during the write stay in `live` afterwards. */
  delta: DayUsage;
}

/**
 * Usage per key per local day. The proxy's observer only bumps counters in memory; flush() adds them to usage.json
 * under the file's inter-process lock and subtracts what it wrote, so two gates (or a restart) neither lose nor
 * double-count.
 */
export class UsageAggregator {
  /** Not yet written: local date → key id → counts. */
  private readonly pending = new Map<string, Map<string, DayUsage>>();
  private pendingRequests = 0;
  /** The day observe() last counted into: its records are found without formatting a date per request. */
  private dayStart = Infinity;
  private dayEnd = -Infinity;
  private dayDate = '';
  private dayRecords = new Map<string, DayUsage>();
  private retentionDays: number;
  private readonly now: () => number;
  private readonly onFlushError: (error: unknown) => void;
  private readonly timer: NodeJS.Timeout;
  /** Flushes run one at a time: two overlapping ones would both write the same pending counts. */
  private flushTail: Promise<void> = Promise.resolve();
  private flushesQueued = 0;
  private closing: Promise<void> | undefined;
  private closed = false;
  private sharing: UsageSharing | undefined;

  private constructor(
    private readonly file: LockedJsonFile<UsageFile>,
    options: UsageAggregatorOptions
  ) {
    this.retentionDays = checkRetention(options.retentionDays ?? DEFAULT_RETENTION_DAYS);
    this.now = options.now ?? Date.now;
    this.onFlushError = options.onFlushError ?? noop;
    this.timer = setInterval(() => this.tick(), options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  static async open(dataDir: string, options: UsageAggregatorOptions = {}): Promise<UsageAggregator> {
    const file = await LockedJsonFile.open({
      file: join(dataDir, USAGE_FILE),
      schema: usageFileSchema,
      defaults: (): UsageFile => ({ version: 1, days: {} }),
    });
    return new UsageAggregator(file, options);
  }

  /** The hot path: a few additions; a record is allocated only for a key's first request of a day. */
  readonly observe: RequestObserver = (finished: FinishedRequest): void => {
    if (this.closed) return;
    const time = finished.time;
    if (!(time >= this.dayStart && time < this.dayEnd)) this.enterDay(time);
    const keyId = finished.keyId ?? ANONYMOUS;
    let usage = this.dayRecords.get(keyId);
    if (usage === undefined) {
      usage = emptyDayUsage();
      this.dayRecords.set(keyId, usage);
    }
    usage.requests++;
    const status = finished.status;
    if (status >= 200 && status < 300) usage.byStatus['2xx']++;
    else if (status >= 300 && status < 400) usage.byStatus['3xx']++;
    else if (status >= 400 && status < 500) usage.byStatus['4xx']++;
    else if (status >= 500 && status < 600) usage.byStatus['5xx']++;
    if (status >= 400) usage.errors++;
    if (finished.promptId !== undefined) usage.prompts++;
    usage.bytesIn += byteCount(finished.bytesIn);
    usage.bytesOut += byteCount(finished.bytesOut);
    const duration = milliseconds(finished.durationMs);
    usage.totalDurationMs += duration;
    if (duration > usage.maxDurationMs) usage.maxDurationMs = duration;
    if (finished.routeClass !== null) usage.byRouteClass[finished.routeClass]++;
    if (finished.kind === 'ws' && status === 101) usage.wsSessions++;
    this.pendingRequests++;
  };

  /**
   * GPU seconds of one of `keyId`'s prompts ('anonymous' for callers without a credential), counted on
   * the local day of `time` (when it ended). Written with the next flush, like the request counts.
   */
  addGpuSeconds(keyId: string, seconds: number, time: number = this.now()): void {
    if (this.closed || !Number.isFinite(seconds) || seconds <= 0) return;
    if (!(time >= this.dayStart && time < this.dayEnd)) this.enterDay(time);
    let usage = this.dayRecords.get(keyId);
    if (usage === undefined) {
      usage = emptyDayUsage();
      this.dayRecords.set(keyId, usage);
    }
    usage.gpuSeconds += seconds;
  }

  /**
   * Adds the pending counts to usage.json in one locked update and drops days past the retention. On failure the
   * counts stay pending. Resolves once this flush (and any before it) is done.
   */
  flush(): Promise<void> {
    this.flushesQueued++;
    const run = this.flushTail.then(() => this.flushNow());
    const settled = run.finally(() => {
      this.flushesQueued--;
    });
    this.flushTail = settled.then(noop, noop);
    return settled;
  }

  /** Flushes, then stops the timer and the file. Requests observed after the final flush are not counted. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      try {
        await this.flush();
      } finally {
        this.closed = true;
        await this.file.close();
      }
    })();
    return this.closing;
  }

  /** With several gates: flushed counts are told to `sharing`, and queries show its sums. */
  shareWith(sharing: UsageSharing): void {
    this.sharing = sharing;
  }

  /** A settings change: applies from the next flush. */
  setRetentionDays(days: number): void {
    this.retentionDays = checkRetention(days);
  }

  /**
   * What usage.json holds plus what is still pending, so the numbers are live. With several gates a day and key
   * shows every gate's sum instead of this gate's file, unless the sum holds less (a Redis that lost its data).
   */
  query(query: UsageQuery = {}): UsageReport {
    const to = query.to ?? localDate(this.now());
    const from = query.from ?? shiftDate(to, -(DEFAULT_QUERY_DAYS - 1));
    const cutoff = this.cutoffDate();
    const first = from > cutoff ? from : cutoff;
    const rows = new Map<string, UsageRow>();
    const add = (date: string, keyId: string, usage: DayUsage): void => {
      if (date < first || date > to || (query.keyId !== undefined && keyId !== query.keyId)) return;
      const id = `${date} ${keyId}`;
      let row = rows.get(id);
      if (row === undefined) {
        row = { date, keyId, ...emptyDayUsage() };
        rows.set(id, row);
      }
      addInto(row, usage);
    };
    const sums = this.sharing?.sums();
    for (const [date, byKey] of Object.entries(this.file.data.days)) {
      const shared = sums?.get(date);
      for (const [keyId, usage] of Object.entries(byKey)) {
        const sum = shared?.get(keyId);
        if (sum === undefined || !covers(sum, usage)) add(date, keyId, usage);
      }
    }
    for (const [date, byKey] of sums ?? []) {
      const own = this.file.data.days[date];
      for (const [keyId, sum] of byKey) {
        const usage = own?.[keyId];
        if (usage === undefined || covers(sum, usage)) add(date, keyId, sum);
      }
    }
    for (const [date, byKey] of this.pending) {
      for (const [keyId, usage] of byKey) if (!isEmpty(usage)) add(date, keyId, usage);
    }
    const days = [...rows.values()].sort((a, b) => compare(a.date, b.date) || compare(a.keyId, b.keyId));
    const totals = emptyDayUsage();
    for (const row of days) {
      addInto(totals, row);
      roundDurations(row);
    }
    roundDurations(totals);
    return { from, to, days, totals };
  }

  private enterDay(time: number): void {
    const at = new Date(Number.isFinite(time) ? time : this.now());
    const year = at.getFullYear();
    const month = at.getMonth();
    const day = at.getDate();
    this.dayStart = new Date(year, month, day).getTime();
    this.dayEnd = new Date(year, month, day + 1).getTime();
    this.dayDate = localDate(at.getTime());
    let records = this.pending.get(this.dayDate);
    if (records === undefined) {
      records = new Map();
      this.pending.set(this.dayDate, records);
    }
    this.dayRecords = records;
  }

  /** Forgets the cached day, so that the next request finds (or makes) its day's records in `pending` again. */
  private leaveDay(): void {
    this.dayStart = Infinity;
    this.dayEnd = -Infinity;
    this.dayDate = '';
  }

  private tick(): void {
    if (this.flushesQueued > 0 || this.closing !== undefined) return;
    if (this.pendingRequests === 0 && !this.hasPendingGpuSeconds() && !this.hasExpiredDays()) return;
    this.flush().catch(this.onFlushError);
  }

  private async flushNow(): Promise<void> {
    if (this.closed) return;
    const cutoff = this.cutoffDate();
    const batch: BatchEntry[] = [];
    for (const [date, byKey] of this.pending) {
      for (const [keyId, live] of byKey) {
        if (isEmpty(live)) continue;
        // Past the retention, or an id usage.json cannot hold: kept, these would fail every flush.
        if (date < cutoff || !usageKeyIdSchema.safeParse(keyId).success) {
          this.pendingRequests -= live.requests;
          Object.assign(live, emptyDayUsage());
          continue;
        }
        batch.push({ live, date, keyId, delta: copyUsage(live) });
      }
    }
    if (batch.length > 0 || this.hasExpiredDays()) {
      await this.file.update((draft) => {
        for (const { date, keyId, delta } of batch) {
          const byKey = (draft.days[date] ??= {});
          const stored = (byKey[keyId] ??= emptyDayUsage());
          addInto(stored, delta);
          roundDurations(stored);
        }
        for (const date of Object.keys(draft.days)) {
          if (date < cutoff) delete draft.days[date];
        }
      });
      for (const { live, delta } of batch) {
        subtractFrom(live, delta);
        this.pendingRequests -= delta.requests;
      }
      if (batch.length > 0) this.sharing?.added(batch.map(({ date, keyId, delta }) => ({ date, keyId, ...delta })));
    }
    this.dropSpentRecords();
  }

  /** Records of past days that have nothing pending; today's stay, so the hot path does not allocate them again. */
  private dropSpentRecords(): void {
    for (const [date, byKey] of this.pending) {
      if (date === this.dayDate) continue;
      for (const [keyId, usage] of byKey) if (isEmpty(usage)) byKey.delete(keyId);
      if (byKey.size === 0) this.pending.delete(date);
    }
    if (this.dayDate !== '' && this.dayDate < this.cutoffDate()) {
      this.pending.delete(this.dayDate);
      this.leaveDay();
    }
  }

  private hasPendingGpuSeconds(): boolean {
    for (const byKey of this.pending.values())
      for (const usage of byKey.values()) if (usage.gpuSeconds > 0) return true;
    return false;
  }

  private hasExpiredDays(): boolean {
    const cutoff = this.cutoffDate();
    for (const date in this.file.data.days) if (date < cutoff) return true;
    return false;
  }

  /** The oldest day kept. */
  private cutoffDate(): string {
    return shiftDate(localDate(this.now()), -(this.retentionDays - 1));
  }
}

function checkRetention(days: number): number {
  if (!Number.isInteger(days) || days < 1)
    throw new RangeError(`retentionDays must be a whole number ≥ 1, not ${days}`);
  return days;
}

/** `YYYY-MM-DD` of the operator's local calendar day. */
export function localDate(time: number): string {
  const at = new Date(time);
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
}

/** Calendar arithmetic on `YYYY-MM-DD`; done in UTC, where every day has 24 hours. */
export function shiftDate(date: string, days: number): string {
  const [year = 1970, month = 1, day = 1] = date.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

function pad(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A counter fed NaN or a negative once would make usage.json invalid and every later flush fail. */
function byteCount(value: number): number {
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

function milliseconds(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** Microseconds (and GPU milliseconds, ComfyUI's own resolution) are plenty, and usage.json stays readable. */
function roundDurations(usage: DayUsage): void {
  usage.totalDurationMs = Math.round(usage.totalDurationMs * 1000) / 1000;
  usage.maxDurationMs = Math.round(usage.maxDurationMs * 1000) / 1000;
  usage.gpuSeconds = Math.round(usage.gpuSeconds * 1000) / 1000;
}

/** A sum of every gate holds at least what this gate counted (less only when Redis lost its data). */
function covers(sum: DayUsage, own: DayUsage): boolean {
  return sum.requests >= own.requests && sum.gpuSeconds + 1e-6 >= own.gpuSeconds;
}

/** Nothing counted: no request and no GPU time (a key's prompt may end on a day it sent no request). */
function isEmpty(usage: DayUsage): boolean {
  return usage.requests === 0 && usage.gpuSeconds === 0;
}

function copyUsage(usage: DayUsage): DayUsage {
  const copy = emptyDayUsage();
  addInto(copy, usage);
  return copy;
}

function addInto(target: DayUsage, source: DayUsage): void {
  target.requests += source.requests;
  target.byStatus['2xx'] += source.byStatus['2xx'];
  target.byStatus['3xx'] += source.byStatus['3xx'];
  target.byStatus['4xx'] += source.byStatus['4xx'];
  target.byStatus['5xx'] += source.byStatus['5xx'];
  target.errors += source.errors;
  target.prompts += source.prompts;
  target.bytesIn += source.bytesIn;
  target.bytesOut += source.bytesOut;
  target.totalDurationMs += source.totalDurationMs;
  if (source.maxDurationMs > target.maxDurationMs) target.maxDurationMs = source.maxDurationMs;
  target.byRouteClass.read += source.byRouteClass.read;
  target.byRouteClass.generate += source.byRouteClass.generate;
  target.byRouteClass.manage += source.byRouteClass.manage;
  target.byRouteClass.install += source.byRouteClass.install;
  target.wsSessions += source.wsSessions;
  target.gpuSeconds += source.gpuSeconds;
}

/**
 * Removes what a flush wrote. The maximum cannot be subtracted; it is kept while newer requests are pending (writing
 * it again is harmless, a maximum is idempotent) and reset once nothing is.
 */
function subtractFrom(target: DayUsage, written: DayUsage): void {
  target.requests -= written.requests;
  target.byStatus['2xx'] -= written.byStatus['2xx'];
  target.byStatus['3xx'] -= written.byStatus['3xx'];
  target.byStatus['4xx'] -= written.byStatus['4xx'];
  target.byStatus['5xx'] -= written.byStatus['5xx'];
  target.errors -= written.errors;
  target.prompts -= written.prompts;
  target.bytesIn -= written.bytesIn;
  target.bytesOut -= written.bytesOut;
  target.byRouteClass.read -= written.byRouteClass.read;
  target.byRouteClass.generate -= written.byRouteClass.generate;
  target.byRouteClass.manage -= written.byRouteClass.manage;
  target.byRouteClass.install -= written.byRouteClass.install;
  target.wsSessions -= written.wsSessions;
  // Exact: a sum minus one of its parts, with the part itself when nothing was added meanwhile.
  target.gpuSeconds = Math.max(0, target.gpuSeconds - written.gpuSeconds);
  if (target.requests === 0) {
    target.totalDurationMs = 0;
    target.maxDurationMs = 0;
  } else {
    target.totalDurationMs = Math.max(0, target.totalDurationMs - written.totalDurationMs);
  }
}

function noop(): void {}
