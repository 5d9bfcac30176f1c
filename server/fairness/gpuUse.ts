/**
 * What the fair order needs to know about GPU time (metered in server/gpu/): how much a subject used
 * today, for weighting by GPU time, and how long a prompt takes, for the start estimate.
 */
export interface GpuUse {
  /** GPU seconds the subject's prompts used today. */
  secondsToday(subject: string): number;
  /** The average GPU seconds of one prompt lately; undefined while nothing was measured. */
  averagePromptSeconds(): number | undefined;
}
