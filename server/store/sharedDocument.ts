import type { EventEmitter } from 'node:events';
import type { z } from 'zod';

export interface SharedDocumentEvents<T> {
  /** The document changed, by this process or another one. Not emitted for rewrites with equal content. */
  change: [T];
  /**
   * Someone left the document unreadable or invalid; the last good document stays in use.
   * Not named 'error' on purpose: an unheard 'error' event would crash the gate over a hand-edited file.
   */
  invalid: [Error];
}

/**
 * One JSON document that every process using it sees alike: the embedded file (LockedJsonFile) on one machine, or
 * Redis shared by several gates (server/redis/). Reads come from memory; a mutation is in force before it resolves.
 */
export interface SharedDocument<T> {
  readonly events: EventEmitter<SharedDocumentEvents<T>>;
  /** The latest known document. Frozen: change it through update(). */
  readonly data: T;
  update<R>(mutate: (draft: T) => R): Promise<R>;
  /** Adopts the document as the source of truth holds it now, before resolving. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/** Turns a store's local document into one shared with other gates (Redis), under a name unique to that store. */
export interface DocumentSharing {
  share<T>(name: string, local: SharedDocument<T>, schema: z.ZodType<T>): Promise<SharedDocument<T>>;
}
