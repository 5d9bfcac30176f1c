import type { RuntimeSettings } from '../settings/settingsSchema.js';

/** How far back the request log reaches, sent with each page of it. */
export interface LogCoverage {
  /** Time of the oldest line still kept, ISO 8601; null while the log is empty. */
  oldestTime: string | null;
  retention: RuntimeSettings['logRetention'];
}
