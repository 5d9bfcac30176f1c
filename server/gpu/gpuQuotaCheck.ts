import { GateError } from '../errors.js';
import { nextLocalMidnight } from '../limits/rateLimiter.js';
import { effectiveShareLimits } from '../limits/shareLimits.js';
import type { BodyCheck } from '../pipeline/steps.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import type { GpuTime } from './gpuLedger.js';

export interface GpuQuotaDeps {
  gpu: GpuTime;
  settings: SettingsStore;
  now?: () => number;
}

/**
 * A `POST /prompt` within the caller's GPU seconds per day (the key's, else its role's default, else
 * the anonymous tier's). Only new prompts are refused: one already running finishes, so the day's
 * total may end above the quota by the prompt that crossed it.
 */
export function gpuQuotaCheck({ gpu, settings, now = Date.now }: GpuQuotaDeps): BodyCheck {
  return function gpuQuota(exchange, body) {
    const subject = exchange.limitSubject;
    if (exchange.bodyCheck !== 'prompt' || body.members === undefined || subject === null) return undefined;
    const quota = effectiveShareLimits(exchange.principal, settings.current).gpuSecondsPerDay;
    if (quota === null) return undefined;
    const used = gpu.secondsToday(subject);
    if (used < quota) return undefined;
    const at = now();
    const retryAfter = Math.max(1, Math.ceil((nextLocalMidnight(at) - at) / 1000));
    return new GateError(
      'gpu_quota',
      `Daily GPU time of ${formatSeconds(quota)} used up (${formatSeconds(used)} today); ` +
        `new prompts are accepted again after local midnight, in ${retryAfter} s.`,
      { 'retry-after': String(retryAfter) }
    );
  };
}

function formatSeconds(seconds: number): string {
  return `${Math.round(seconds * 10) / 10} s`;
}
