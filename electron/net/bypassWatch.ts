import type { Interfaces, Logger } from '../../server/contract/desktop.js';
import { bypassProbeUrls, findBypass } from './bypass.js';

export interface BypassWatchDeps {
  upstreamUrl(): string;
  interfaces(): Interfaces;
  probe(url: string): Promise<boolean>;
  logger: Logger;
  /** The tray shows what the last check found (null: nothing). */
  onResult(found: string | null): void;
  /** Told once per run of the app, the first time ComfyUI answers around the gate. */
  warn(found: string): void;
}

/** Checks whether ComfyUI also answers on this computer's LAN addresses, where teammates need no key. */
export function createBypassWatch(deps: BypassWatchDeps): { check(): Promise<void> } {
  let warned = false;
  return {
    async check() {
      const found = await findBypass(bypassProbeUrls(deps.upstreamUrl(), deps.interfaces()), (url) => deps.probe(url));
      deps.onResult(found);
      if (found === null || warned) return;
      warned = true;
      deps.logger.warn({ bypassUrl: found }, 'ComfyUI answers on the network without the gate');
      deps.warn(found);
    },
  };
}
