import { useEffect, useState } from 'react';

export type RouteName = 'overview' | 'keys' | 'usage' | 'logs' | 'audit' | 'settings' | 'help' | 'me' | 'not-found';

const ROUTES: Record<string, RouteName> = {
  '': 'overview',
  '/': 'overview',
  '/keys': 'keys',
  '/usage': 'usage',
  '/logs': 'logs',
  '/audit': 'audit',
  '/settings': 'settings',
  '/help': 'help',
  '/me': 'me',
};

export function routeOf(hash: string): RouteName {
  const path = hash.replace(/^#/, '').split('?')[0] ?? '';
  return ROUTES[path.replace(/\/+$/, '') || '/'] ?? 'not-found';
}

export function hrefOf(route: Exclude<RouteName, 'not-found'>): string {
  return route === 'overview' ? '#/' : `#/${route}`;
}

/** The hash router: `#/keys` and friends; the dashboard is one page served at /gate/. */
export function useRoute(): RouteName {
  const [route, setRoute] = useState(() => routeOf(window.location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(routeOf(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function navigate(route: Exclude<RouteName, 'not-found'>, replace = false): void {
  const href = hrefOf(route);
  if (replace) {
    window.history.replaceState(null, '', href);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = href;
  }
}
