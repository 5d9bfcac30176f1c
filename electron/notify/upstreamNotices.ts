import type { GateNotice } from './gateNotices.js';

export interface UpstreamNoticeDeps {
  upstreamUrl: string;
  /** How long ComfyUI must stay unreachable before the operator hears of it (a restart is not news). */
  graceMs: number;
  notify(notice: GateNotice): void;
  setTimer(run: () => void, ms: number): NodeJS.Timeout;
  clearTimer(timer: NodeJS.Timeout): void;
}

export interface UpstreamNotices {
  /** Each reachability change the gate reports. */
  reachability(reachable: boolean): void;
  dispose(): void;
}

/**
 * Turns ComfyUI's reachability into "down" and "back" notices without flapping: "down" only after it stayed down
 * for the grace period (and only once it had been up: not finding it at start is the tray's to show), "back" only
 * after a "down" was shown.
 */
export function createUpstreamNotices(deps: UpstreamNoticeDeps): UpstreamNotices {
  let seenUp = false;
  let announcedDown = false;
  let pending: NodeJS.Timeout | undefined;
  const cancel = (): void => {
    if (pending !== undefined) deps.clearTimer(pending);
    pending = undefined;
  };
  return {
    reachability(reachable) {
      if (reachable) {
        seenUp = true;
        cancel();
        if (announcedDown) {
          announcedDown = false;
          deps.notify({ kind: 'comfyUp', upstreamUrl: deps.upstreamUrl });
        }
        return;
      }
      if (!seenUp || announcedDown || pending !== undefined) return;
      pending = deps.setTimer(() => {
        pending = undefined;
        announcedDown = true;
        deps.notify({ kind: 'comfyDown', upstreamUrl: deps.upstreamUrl });
      }, deps.graceMs);
    },
    dispose: cancel,
  };
}
