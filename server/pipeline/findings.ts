/*
 * What the steps mark on an Exchange for the forwarder to act on. Plain data, defined here so that the
 * pipeline names them without importing the concerns that find them (policy, isolation).
 */

/** An answer the gate gives in ComfyUI's place, byte for byte what ComfyUI would send. */
export interface StandIn {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** Which ComfyUI answer the gate rewrites for an isolated caller before it reaches them. */
export type IsolatedView = 'queue' | 'history' | 'system_stats' | 'jobs' | 'job' | 'users' | 'upload';

export type OwnSpaceKind =
  | 'read_settings'
  | 'read_setting'
  | 'write_settings'
  | 'write_setting'
  | 'read_file'
  | 'write_file'
  | 'write_workflow'
  | 'delete_workflow'
  | 'move_workflow';

/**
 * A request about a teammate's own ComfyUI settings, per-user files or saved workflows. `name` is the
 * setting id or the file as ComfyUI's handler reads it; `dest` the destination of a move, else ''.
 */
export interface OwnSpaceRoute {
  readonly kind: OwnSpaceKind;
  readonly name: string;
  readonly dest: string;
}

/**
 * A page of `/history` or of the jobs API as an isolated caller asked for it. ComfyUI pages over
 * everyone's entries, so the gate asks it for a wider page (or all) and pages the caller's own.
 */
export type OwnWindow =
  | {
      kind: 'history';
      /** `max_items`: the newest N, or N from `offset` on. */
      maxItems: number | undefined;
      /** `offset`: counted from the oldest entry. */
      offset: number | undefined;
      /** How many entries ComfyUI is asked for now; undefined for all. */
      asked: number | undefined;
    }
  | { kind: 'jobs'; limit: number | undefined; offset: number };
