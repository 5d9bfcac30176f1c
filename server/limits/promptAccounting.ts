import type { Exchange } from '../pipeline/exchange.js';
import type { PromptTracker } from './promptTracker.js';
import type { RateLimiter } from './rateLimiter.js';

/** A key whose accepted prompt just used up its prompts per day. */
export interface QuotaReached {
  id: string;
  name: string;
  limit: number;
}

export interface PromptAccountingDeps {
  limiter: RateLimiter;
  tracker: PromptTracker;
  onQuotaReached: (reached: QuotaReached) => void;
}

/**
 * Runs on ComfyUI's answer: a prompt ComfyUI accepted counts against the daily quota and holds a queue
 * slot until it ends; deleted prompts give theirs back. The prompt that uses up a key's quota is
 * announced: the count passes the limit exactly once a day, later prompts are refused before.
 */
export function promptAccounting({ limiter, tracker, onQuotaReached }: PromptAccountingDeps) {
  return function accountPrompts(exchange: Exchange, status: number): void {
    if (status !== 200) return;
    const subject = exchange.limitSubject;
    if (exchange.promptId !== null && subject !== null) {
      const now = Date.now();
      limiter.countPrompt(subject, now);
      tracker.add(subject, exchange.promptId);
      const principal = exchange.principal;
      const limit = principal?.limits.promptsPerDay ?? null;
      if (principal !== undefined && limit !== null && limiter.promptsToday(subject, now) === limit) {
        onQuotaReached({ id: principal.keyId, name: principal.name, limit });
      }
    }
    if (exchange.deletedPrompts) for (const id of exchange.deletedPrompts) tracker.finish(id);
  };
}
