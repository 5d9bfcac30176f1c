/**
 * What the fair order needs to know about GPU time (metered elsewhere): how much a subject used
 * today, for weighting by GPU time, and how long a prompt takes, for the start estimate.
 */
export interface GpuUse {
  /** GPU seconds the subject's prompts used today. */
  secondsToday(subject: string): number;
  /** The average GPU seconds of one prompt lately; undefined while nothing was measured. */
  averagePromptSeconds(): number | undefined;
}

/** Until GPU time is metered: nobody used any, and no prompt length is known. */
export const NO_GPU_USE: GpuUse = {
  secondsToday: () => 0,
  averagePromptSeconds: () => undefined,
};
