import type { BackendStatus } from '../../server/contract/desktop.js';
import type { GateNotice } from './gateNotices.js';
import { createUpstreamNotices, type UpstreamNoticeDeps, type UpstreamNotices } from './upstreamNotices.js';

export type BackendNoticeDeps = Omit<UpstreamNoticeDeps, 'upstreamUrl'>;

export interface BackendNotices {
  /** Each backend's reachability change the gate reports (`backend` event), or its state at start. */
  reachability(backend: Pick<BackendStatus, 'url' | 'label' | 'reachable'>): void;
  dispose(): void;
}

/**
 * With several ComfyUIs, one that stops while the others run is worth a notice naming it: the gate as a whole
 * still answers, so the "ComfyUI is not answering" notice stays silent. Each backend gets the same grace period
 * and the same down-then-back rule as the single ComfyUI.
 */
export function createBackendNotices(deps: BackendNoticeDeps): BackendNotices {
  const byUrl = new Map<string, UpstreamNotices>();
  return {
    reachability({ url, label, reachable }) {
      let notices = byUrl.get(url);
      if (notices === undefined) {
        notices = createUpstreamNotices({
          ...deps,
          upstreamUrl: url,
          notify: (notice: GateNotice) =>
            deps.notify({ kind: notice.kind === 'comfyUp' ? 'backendUp' : 'backendDown', label, url }),
        });
        byUrl.set(url, notices);
      }
      notices.reachability(reachable);
    },
    dispose() {
      for (const notices of byUrl.values()) notices.dispose();
    },
  };
}
