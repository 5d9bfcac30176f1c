import { GateError, headerObject } from '../errors.js';
import type { BodyCheck } from '../pipeline/steps.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import type { PromptTracker } from './promptTracker.js';
import type { RateLimiter } from './rateLimiter.js';

export interface PromptQuotaDeps {
  limiter: RateLimiter;
  tracker: PromptTracker;
  settings: SettingsStore;
  /** What ComfyUI still has running or pending, to correct the counts before refusing; undefined when unknown. */
  queuedPromptIds: () => Promise<Set<string> | undefined>;
}

/** A `POST /prompt` within the caller's prompts per day and queued prompts (`maxQueued`). */
export function promptQuotaCheck({ limiter, tracker, settings, queuedPromptIds }: PromptQuotaDeps): BodyCheck {
  return async function promptQuota(exchange, body) {
    const subject = exchange.limitSubject;
    if (exchange.bodyCheck !== 'prompt' || body.members === undefined || subject === null) return undefined;
    const principal = exchange.principal;
    const limits = principal ? principal.limits : settings.current.anonymous.limits;
    const quota = limiter.checkPrompt(subject, limits.promptsPerDay, Date.now());
    if (!quota.allowed) return new GateError(quota.code, quota.message, headerObject(quota.headers));
    if (limits.maxQueued !== null && tracker.pending(subject) >= limits.maxQueued) {
      const live = await queuedPromptIds();
      if (live) tracker.reconcile(subject, live);
      const pending = tracker.pending(subject);
      if (pending >= limits.maxQueued) {
        return new GateError(
          'queue_limit',
          `${pending} of your prompts are still queued or running (limit ${limits.maxQueued}); queue more when one finishes`,
          { 'retry-after': '5' }
        );
      }
    }
    return undefined;
  };
}
