import type { Logger } from '../appLog/logger.js';
import type { Backend } from './backend.js';
import type { PromptPlaces } from './promptPlaces.js';

/** What the router's routes share: the backends, where prompts are, and how long a backend may take. */
export interface RouterScope {
  readonly backends: readonly Backend[];
  readonly places: PromptPlaces;
  /** How long a backend may take to answer. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** The backends the last health check found answering, in the configured order. */
  reachable(): Backend[];
  /** A prompt went to this backend (new, or moved there from a lost one). */
  placed(backend: Backend): void;
}
