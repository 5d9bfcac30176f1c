import type { GateState } from '../../server/contract/desktop.js';
import type { DesktopState } from '../ipc/contract.js';

/** What the desktop app itself finds out, next to the gate's own state. */
export interface DesktopExtras {
  bypassUrl: string | null;
  openAtLogin: boolean | null;
}

/** One state for the tray and the dashboard, from the gate's state and the app. */
export function buildDesktopState(gate: GateState, extras: DesktopExtras): DesktopState {
  return {
    mode: gate.mode,
    paused: gate.paused,
    network: gate.network,
    upstream: { url: gate.upstream.url, reachable: gate.upstream.reachable },
    keys: gate.keys,
    requestsToday: gate.requestsToday,
    share: gate.share,
    bypassUrl: extras.bypassUrl,
    openAtLogin: extras.openAtLogin,
  };
}
