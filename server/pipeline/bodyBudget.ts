/**
 * The memory all request bodies the gate holds for inspection may take at once. A body reserves
 * its bytes before they are read and gives them back when its request is over, so a burst of large
 * prompts is refused (503, Retry-After) instead of growing the gate's memory without bound.
 */
export class BodyBudget {
  #inUse = 0;

  constructor(readonly limitBytes: number) {}

  /** Bytes reserved right now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Reserves `bytes` when they fit in what is left; false (nothing reserved) when they do not. */
  tryReserve(bytes: number): boolean {
    if (this.#inUse + bytes > this.limitBytes) return false;
    this.#inUse += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#inUse = Math.max(0, this.#inUse - bytes);
  }
}
