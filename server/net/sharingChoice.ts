import { isLoopbackBind } from '../pipeline/hostNames.js';
import type { AuthMode } from '../settings/settingsSchema.js';

/** Where "This computer only" listens. */
export const THIS_COMPUTER_HOST = '127.0.0.1';

/**
 * The address the gate listens on for each choice of the sharing switch. "My network" is the
 * configured network host (every interface, 0.0.0.0, unless the operator names one address).
 */
export function listenHostFor(network: boolean, networkHost: string): string {
  return network ? networkHost : THIS_COMPUTER_HOST;
}

/** Whether a gate listening on `host` is shared on the network: the switch's position. */
export function isSharedOnNetwork(host: string, networkHost: string): boolean {
  return host === networkHost || !isLoopbackBind(host);
}

/**
 * The rule `serve` and the sharing switch both follow: protection off on an address others can
 * reach needs an explicit confirmation. Returns why it is refused, or null.
 */
export function unprotectedRefusal(mode: AuthMode, host: string): string | null {
  if (mode !== 'off' || isLoopbackBind(host)) return null;
  return (
    `refusing to share ComfyUI on ${host} with protection off: anyone on the network could use it. ` +
    'Turn protection on (Optional or Required) first'
  );
}
