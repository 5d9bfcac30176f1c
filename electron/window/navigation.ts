/** Where a URL a window wants to open belongs. */
export type NavigationTarget = 'dashboard' | 'comfyui' | 'external' | 'blocked';

/**
 * The gate's `/gate/` pages are the dashboard, every other path on the gate's origin is ComfyUI
 * through the gate, other http(s) pages belong in the operator's browser, anything else
 * (file:, javascript:, custom schemes) is refused.
 */
export function classifyNavigation(url: string, gateUrl: string): NavigationTarget {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return 'blocked';
  }
  if (target.origin === new URL(gateUrl).origin) {
    return target.pathname === '/gate' || target.pathname.startsWith('/gate/') ? 'dashboard' : 'comfyui';
  }
  return target.protocol === 'http:' || target.protocol === 'https:' ? 'external' : 'blocked';
}

/** Only the dashboard's own pages may use the desktop API. */
export function isDashboardUrl(url: string, gateUrl: string): boolean {
  return classifyNavigation(url, gateUrl) === 'dashboard';
}

/** `route` is a HashRouter location such as `#/keys`; empty for the dashboard's start page. */
export function dashboardUrl(gateUrl: string, route = ''): string {
  return `${gateUrl}/gate/${route}`;
}
