import type { FileOwners } from '../isolation/fileOwners.js';
import type { PromptOwners } from '../isolation/promptOwners.js';
import type { PromptTracker } from '../limits/promptTracker.js';
import type { BodyCheck } from '../pipeline/steps.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import { subjectAndRest, type GateFeed, type RedisMulti } from './gateFeed.js';
import type { RedisClient } from './redisLink.js';

/** Sorted sets of `subject id` (score: when), trimmed to as many as one gate remembers. */
const PROMPTS_KEY = 'comfygate:owners:prompts';
const FILES_KEY = 'comfygate:owners:files';
const PENDING_KEY = 'comfygate:owners:pending';
const MAX_PROMPTS = 10_000;
const MAX_FILES = 200_000;
const MAX_PENDING = 5_000;
/** Prompts queued through other gates, remembered so this gate's GPU meter leaves their measuring to them. */
const MAX_ELSEWHERE = 10_000;

export interface OwnershipParts {
  owners: PromptOwners;
  files: FileOwners;
  /** The queued prompts `maxQueued` counts: one gate's are every gate's. */
  tracker: PromptTracker;
}

/**
 * Prompt and output ownership and queued prompts as one across the gates: what one gate records goes to the others
 * at once through the feed and into Redis for gates that start later; reads stay in each gate's memory. A prompt's
 * owner reaches the other gates before the prompt is sent on to ComfyUI.
 */
export class SharedOwnership {
  readonly #elsewhere = new Set<string>();

  constructor(
    private readonly feed: GateFeed,
    private readonly commands: RedisClient,
    private readonly parts: OwnershipParts
  ) {
    const { owners, files, tracker } = parts;
    feed.on('p', (rest) => this.#adopt(rest, (subject, id) => this.#claimedElsewhere(id, subject)));
    feed.on('f', (rest) => this.#adopt(rest, (subject, key) => files.adoptFile(key, subject)));
    feed.on('e', (rest) =>
      this.#adopt(rest, (subject, atAndId) => {
        const [at, id] = subjectAndRest(atAndId) ?? [];
        if (id !== undefined) files.adoptPending(id, subject, Number(at));
      })
    );
    feed.on('s', (rest) => this.#adopt(rest, (_subject, id) => files.adoptSettled(id)));
    feed.on('q', (rest) => this.#adopt(rest, (subject, id) => tracker.add(subject, id)));
    owners.shareWith((id, subject) =>
      feed.send('p', `${subject} ${id}`, (multi) => remember(multi, PROMPTS_KEY, `${subject} ${id}`, MAX_PROMPTS))
    );
    files.shareWith({
      recorded: (key, subject) =>
        void feed.send('f', `${subject} ${key}`, (multi) => remember(multi, FILES_KEY, `${subject} ${key}`, MAX_FILES)),
      expected: (id, subject, at) =>
        void feed.send('e', `${subject} ${at} ${id}`, (multi) =>
          remember(multi, PENDING_KEY, `${subject} ${id}`, MAX_PENDING, at)
        ),
      settled: (id, subject) =>
        void feed.send('s', `${subject} ${id}`, (multi) => void multi.zRem(PENDING_KEY, `${subject} ${id}`)),
    });
    feed.onUp(() => this.load());
  }

  /**
   * After the prompt checks, for callers with a `maxQueued`: the prompt takes its queue slot on every gate before it
   * is sent on. One ComfyUI refuses gives it back at the next look at ComfyUI's /queue (promptQuotaCheck.ts).
   */
  queueSlotCheck(settings: SettingsStore): BodyCheck {
    return (exchange) => {
      const subject = exchange.limitSubject;
      if (exchange.bodyCheck !== 'prompt' || subject === null || exchange.promptId === null) return undefined;
      const limits = exchange.principal?.limits ?? settings.current.anonymous.limits;
      if (limits.maxQueued === null) return undefined;
      return this.feed.send('q', `${subject} ${exchange.promptId}`).then(() => undefined);
    };
  }

  /** False for a prompt queued through another gate: that gate measures its GPU time. */
  mayMeasure(promptId: string): boolean {
    return !this.#elsewhere.has(promptId);
  }

  /** What Redis holds, adopted (at start and after an outage). */
  async load(): Promise<void> {
    const [prompts, files, pending] = await Promise.all([
      this.commands.zRange(PROMPTS_KEY, 0, -1),
      this.commands.zRange(FILES_KEY, 0, -1),
      this.commands.zRangeWithScores(PENDING_KEY, 0, -1),
    ]);
    for (const entry of prompts) this.#adopt(entry, (subject, id) => this.parts.owners.record(id, subject));
    for (const entry of files) this.#adopt(entry, (subject, key) => this.parts.files.adoptFile(key, subject));
    for (const { value, score } of pending) {
      this.#adopt(value, (subject, id) => this.parts.files.adoptPending(id, subject, score));
    }
  }

  #claimedElsewhere(promptId: string, subject: string): void {
    this.parts.owners.record(promptId, subject);
    this.#elsewhere.add(promptId);
    if (this.#elsewhere.size > MAX_ELSEWHERE) this.#elsewhere.delete(this.#elsewhere.values().next().value!);
  }

  #adopt(text: string, apply: (subject: string, rest: string) => unknown): void {
    const parsed = subjectAndRest(text);
    if (parsed !== undefined) apply(parsed[0], parsed[1]);
  }
}

function remember(multi: RedisMulti, key: string, member: string, max: number, score = Date.now()): void {
  multi.zAdd(key, { score, value: member });
  multi.zRemRangeByRank(key, 0, -(max + 1));
}
