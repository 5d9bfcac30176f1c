import { useEffect, useRef, useState } from 'react';
import { errorMessage, LOGIN_PATH, loginUrl } from './api/client.js';
import { gate } from './api/gate.js';
import type { Whoami } from './api/types.js';
import { Icon, type IconName } from './components/Icon.js';
import { ErrorState, Loading } from './components/States.js';
import { ToastProvider } from './components/Toast.js';
import { hrefOf, navigate, useRoute, type RouteName } from './lib/router.js';
import { accessInfo } from './lib/roles.js';
import { useResource } from './lib/useResource.js';
import { AuditPage } from './pages/AuditPage.js';
import { HelpPage } from './pages/HelpPage.js';
import { KeysPage } from './pages/keys/KeysPage.js';
import { LogsPage } from './pages/LogsPage.js';
import { MePage } from './pages/MePage.js';
import { OverviewPage } from './pages/OverviewPage.js';
import { SettingsPage } from './pages/SettingsPage.js';
import { UsagePage } from './pages/UsagePage.js';

const NAV: { route: Exclude<RouteName, 'not-found'>; label: string; icon: IconName }[] = [
  { route: 'overview', label: 'Overview', icon: 'overview' },
  { route: 'keys', label: 'Keys', icon: 'key' },
  { route: 'usage', label: 'Usage', icon: 'usage' },
  { route: 'logs', label: 'Logs', icon: 'logs' },
  { route: 'audit', label: 'Audit', icon: 'audit' },
  { route: 'settings', label: 'Settings', icon: 'settings' },
  { route: 'help', label: 'Help', icon: 'help' },
];

export function App() {
  const who = useResource((signal) => gate.whoami(signal), []);
  return (
    <ToastProvider>
      {who.resource.state === 'loading' && (
        <div className="splash">
          <Loading label="Signing in…" />
        </div>
      )}
      {who.resource.state === 'error' && (
        <div className="splash">
          <ErrorState title="Cannot open the dashboard" error={who.resource.error} onRetry={who.reload} />
        </div>
      )}
      {who.resource.data && <Shell who={who.resource.data} />}
    </ToastProvider>
  );
}

function useSignOut(admin: boolean): { signOut: () => void; error: string | undefined } {
  const [error, setError] = useState<string>();
  const signOut = (): void => {
    gate.logout().then(
      // A teammate who signs in again goes on to ComfyUI; an admin comes back here.
      () => window.location.assign(admin ? loginUrl('') : LOGIN_PATH),
      (e: unknown) => setError(errorMessage(e))
    );
  };
  return { signOut, error };
}

function Shell({ who }: { who: Whoami }) {
  const route = useRoute();
  const admin = who.role === 'admin';
  const { signOut, error } = useSignOut(admin);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // Teammates have their own page and the help; the dashboard's other pages are the admin's.
  const teammatePage = route === 'help' ? 'help' : 'me';
  const shown: RouteName = admin ? route : teammatePage;
  useEffect(() => {
    if (!admin && route !== teammatePage) navigate(teammatePage, true);
  }, [admin, route, teammatePage]);

  // After a navigation, focus the new page's heading (screen readers announce it; Tab continues from there).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>('h1')?.focus();
    window.scrollTo(0, 0);
  }, [shown]);

  useEffect(() => {
    const titles: Record<RouteName, string> = {
      overview: 'Overview',
      keys: 'Keys',
      usage: 'Usage',
      logs: 'Logs',
      audit: 'Audit',
      settings: 'Settings',
      help: 'Help',
      me: 'My access',
      'not-found': 'Not found',
    };
    document.title = `${titles[shown]} · ComfyGate`;
  }, [shown]);

  const page = (() => {
    switch (shown) {
      case 'overview':
        return <OverviewPage />;
      case 'keys':
        return <KeysPage />;
      case 'usage':
        return <UsagePage />;
      case 'logs':
        return <LogsPage />;
      case 'audit':
        return <AuditPage />;
      case 'settings':
        return <SettingsPage />;
      case 'help':
        return <HelpPage who={who} />;
      case 'me':
        return <MePage who={who} onSignOut={signOut} />;
      case 'not-found':
        return (
          <div className="empty">
            <h1 tabIndex={-1}>Page not found</h1>
            <p>
              <a className="link" href={hrefOf('overview')}>
                Back to the overview
              </a>
            </p>
          </div>
        );
    }
  })();

  return (
    <div className={admin ? 'shell' : 'shell shell-teammate'}>
      <button
        type="button"
        className="skip-link"
        onClick={() => main.current?.querySelector<HTMLElement>('h1')?.focus()}
      >
        Skip to content
      </button>
      <aside className="sidebar">
        <a className="brand" href={admin ? hrefOf('overview') : hrefOf('me')}>
          <span className="brand-mark" aria-hidden="true">
            <Icon name="audit" size={18} />
          </span>
          <span className="brand-name">ComfyGate</span>
        </a>
        {admin && (
          <nav aria-label="Dashboard">
            <ul className="nav">
              {NAV.map((item) => (
                <li key={item.route}>
                  <a
                    href={hrefOf(item.route)}
                    className="nav-link"
                    aria-current={shown === item.route ? 'page' : undefined}
                  >
                    <Icon name={item.icon} />
                    <span>{item.label}</span>
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <div className="sidebar-footer">
          {admin && (
            <a className="nav-link" href="/" target="_blank" rel="noopener">
              <Icon name="external" />
              <span>Open ComfyUI</span>
            </a>
          )}
          <a className="nav-link" href={hrefOf('me')} aria-current={shown === 'me' ? 'page' : undefined}>
            <Icon name="user" />
            <span>My access</span>
          </a>
          {/* Teammates have no navigation: the help is one of their two pages. */}
          {!admin && (
            <a className="nav-link" href={hrefOf('help')} aria-current={shown === 'help' ? 'page' : undefined}>
              <Icon name="help" />
              <span>Help</span>
            </a>
          )}
          <div className="user-chip">
            <span className="avatar" aria-hidden="true">
              {who.name.slice(0, 1).toUpperCase()}
            </span>
            <span className="user-text">
              <span className="user-name" title={who.name}>
                {who.name}
              </span>
              <span className="user-role">{accessInfo(who.role, who.legacy ? null : who.scopes).label}</span>
            </span>
            <button type="button" className="icon-button" onClick={signOut} aria-label="Sign out" title="Sign out">
              <Icon name="logout" size={16} />
            </button>
          </div>
          {error && (
            <p className="form-error small" role="alert">
              {error}
            </p>
          )}
        </div>
      </aside>
      <main className="main" ref={main}>
        {page}
      </main>
    </div>
  );
}
