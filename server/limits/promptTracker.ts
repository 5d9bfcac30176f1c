/**
 * Which subject (key id or `anon:<ip>`) queued which prompts that have not finished, for the
 * `maxQueued` fairness limit. Prompts finish when ComfyUI says so on a WebSocket, or when a
 * reconciliation with its `/queue` no longer lists them.
 */
export class PromptTracker {
  readonly #bySubject = new Map<string, Set<string>>();
  readonly #owner = new Map<string, string>();

  add(subject: string, promptId: string): void {
    let ids = this.#bySubject.get(subject);
    if (!ids) this.#bySubject.set(subject, (ids = new Set()));
    ids.add(promptId);
    this.#owner.set(promptId, subject);
  }

  finish(promptId: string): void {
    const subject = this.#owner.get(promptId);
    if (subject === undefined) return;
    this.#owner.delete(promptId);
    const ids = this.#bySubject.get(subject);
    ids?.delete(promptId);
    if (ids?.size === 0) this.#bySubject.delete(subject);
  }

  pending(subject: string): number {
    return this.#bySubject.get(subject)?.size ?? 0;
  }

  /** Per subject, for metrics and the dashboard. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [subject, ids] of this.#bySubject) counts.set(subject, ids.size);
    return counts;
  }

  ownerOf(promptId: string): string | undefined {
    return this.#owner.get(promptId);
  }

  /** Keeps only the prompts ComfyUI still lists as running or pending. */
  reconcile(subject: string, live: ReadonlySet<string>): void {
    const ids = this.#bySubject.get(subject);
    if (!ids) return;
    for (const id of [...ids]) if (!live.has(id)) this.finish(id);
  }

  get isEmpty(): boolean {
    return this.#owner.size === 0;
  }
}

const FINISH_MARKER = Buffer.from('"execution_');
const FINISH_TYPES = new Set(['execution_success', 'execution_error', 'execution_interrupted']);

/** Who is told that a prompt ended (the queue-slot tracker, the fair order); empty ones skip the frames. */
export interface FinishedPromptSink {
  readonly isEmpty: boolean;
  finish(promptId: string): void;
}

/**
 * Reads ComfyUI's WebSocket text frames for the end of a prompt. Most frames are progress, so the
 * cheap byte search comes first and JSON is parsed only for the few that can end a prompt.
 */
export function watchForFinishedPrompts(tracker: FinishedPromptSink): (frame: Buffer) => void {
  return function onUpstreamText(frame) {
    if (tracker.isEmpty || frame.indexOf(FINISH_MARKER) === -1) return;
    let message: unknown;
    try {
      message = JSON.parse(frame.toString('utf8'));
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const { type, data } = message as { type?: unknown; data?: { prompt_id?: unknown } };
    if (typeof type === 'string' && FINISH_TYPES.has(type) && typeof data?.prompt_id === 'string') {
      tracker.finish(data.prompt_id);
    }
  };
}
