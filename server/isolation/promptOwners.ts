/** Tells the other gates (with Redis) who queued a prompt; resolves once they can hear it. */
export type ShareClaim = (promptId: string, subject: string) => Promise<void>;

/** ComfyUI keeps at most this many history entries; the gate remembers owners for as many prompts. */
const REMEMBERED_PROMPTS = 10_000;

/**
 * Which subject (key id or `anon:<ip>`) queued which prompt, for the recent prompts: WebSocket
 * messages and deletions are checked against it without asking ComfyUI. What the gate forgot (after
 * a restart) it learns again from the owner stamp in `/queue` and `/history` answers.
 */
export class PromptOwners {
  readonly #owners = new Map<string, string>();
  #share: ShareClaim | undefined;

  /** With several gates: the prompts this gate queues are told to the others (redis/sharedOwnership.ts). */
  shareWith(share: ShareClaim): void {
    this.#share = share;
  }

  /**
   * A prompt this gate sends on for `subject`: recorded, and with several gates told to the others before it is
   * forwarded, so a socket of the owner's on another gate gets its first frames.
   */
  claim(promptId: string, subject: string): Promise<undefined> | undefined {
    this.record(promptId, subject);
    return this.#share?.(promptId, subject).then(() => undefined);
  }

  record(promptId: string, subject: string): void {
    this.#owners.delete(promptId);
    this.#owners.set(promptId, subject);
    if (this.#owners.size > REMEMBERED_PROMPTS) {
      const oldest = this.#owners.keys().next();
      if (!oldest.done) this.#owners.delete(oldest.value);
    }
  }

  ownerOf(promptId: string): string | undefined {
    return this.#owners.get(promptId);
  }

  owns(subject: string, promptId: string): boolean {
    return this.#owners.get(promptId) === subject;
  }
}
