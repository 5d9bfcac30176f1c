import type { GateState } from '../../server/gate.js';
import type { DesktopState } from '../ipc/contract.js';
import { shareAddress, type Interfaces } from '../net/lanAddress.js';

/** What the desktop app itself finds out, next to the gate's own state. */
export interface DesktopExtras {
  bypassUrl: string | null;
  openAtLogin: boolean | null;
}

/** One state for the tray and the dashboard, from the gate's state, the network and the app. */
export function buildDesktopState(gate: GateState, extras: DesktopExtras, interfaces: Interfaces): DesktopState {
  return {
    mode: gate.mode,
    paused: gate.paused,
    upstream: { url: gate.upstream.url, reachable: gate.upstream.reachable },
    keys: gate.keys,
    requestsToday: gate.requestsToday,
    share: shareAddress(gate.listen, interfaces),
    bypassUrl: extras.bypassUrl,
    openAtLogin: extras.openAtLogin,
  };
}
