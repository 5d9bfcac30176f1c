import type { GpuLedger } from '../gpu/gpuLedger.js';
import type { GpuMeasurement } from '../gpu/gpuMeter.js';
import { localDate } from '../usage/usageAggregator.js';
import { subjectAndRest, type GateFeed } from './gateFeed.js';

/**
 * GPU time as one across the gates: each prompt is measured by the gate that queued it, which tells the others; they
 * add the seconds to the subject's day in their ledgers, which the gpuSecondsPerDay quota reads. A gate that starts
 * later seeds its ledger from the shared usage of the day (gate.ts). A measurement heard after its day is over is
 * dropped: it counts in that day's usage, not in the new day's quota.
 */
export class SharedGpuTime {
  constructor(
    private readonly feed: GateFeed,
    ledger: GpuLedger,
    private readonly now: () => number = Date.now
  ) {
    feed.on('g', (rest) => {
      const [subject, dayAndSeconds] = subjectAndRest(rest) ?? [];
      const [day, text] = dayAndSeconds?.split(' ') ?? [];
      const seconds = Number(text);
      if (subject !== undefined && day === localDate(this.now()) && Number.isFinite(seconds) && seconds > 0) {
        ledger.seed(subject, seconds);
      }
    });
  }

  /** A prompt this gate measured. */
  measured({ subject, seconds }: GpuMeasurement): void {
    void this.feed.send('g', `${subject} ${localDate(this.now())} ${seconds}`);
  }
}
