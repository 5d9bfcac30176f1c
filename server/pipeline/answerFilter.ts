/** ComfyUI must be asked again, for more: its answer held too few of the caller's own entries. */
export const ASK_WIDER = Symbol('ask ComfyUI for a wider page');

/**
 * How the gate rewrites ComfyUI's answer before it reaches the caller (a step chooses it, the
 * forwarder applies it): the forwarder asks ComfyUI at `upstreamPath`, holds a 200 answer until it
 * is complete and sends what `rewrite` makes of it.
 */
export interface AnswerFilter {
  /** The path ComfyUI is asked (it may change after `rewrite` answered ASK_WIDER). */
  upstreamPath(path: string): string;
  /** The caller's answer; ASK_WIDER to ask ComfyUI again; undefined when the answer is not in a shape it can read. */
  rewrite(answer: string): string | typeof ASK_WIDER | undefined;
}
