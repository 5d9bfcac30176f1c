import { app, BrowserWindow, dialog, session, shell, type Cookies, type WebContents } from 'electron';
import type { OwnerSession } from '../../server/contract/desktop.js';
import { classifyNavigation, dashboardUrl, type NavigationTarget } from './navigation.js';
import { comfyWindowOptions, dashboardWindowOptions, GATE_PARTITION } from './windowOptions.js';

export interface WindowDeps {
  /** The gate as this computer loads it (loopback). */
  gateUrl: string;
  ownerSession(): Promise<OwnerSession>;
  preload: string;
  icon?: string;
  /** While the app quits, closing the dashboard really closes it. */
  isQuitting(): boolean;
  platform: NodeJS.Platform;
}

export interface Windows {
  /** Shows the dashboard, signed in; loads `route` (`#/keys`…) when given. */
  openDashboard(route?: string): Promise<void>;
  /** ComfyUI through the gate, in its own window with the same signed-in session. */
  openComfyUI(): Promise<void>;
  /** The dashboard's contents while the window exists, for push messages. */
  dashboardContents(): WebContents | undefined;
}

/**
 * Signs the windows' session partition in as the owner: an HttpOnly cookie set from the main
 * process, so the key never appears in a URL and page scripts cannot read the session.
 */
export async function signInPartition(
  cookies: Pick<Cookies, 'set'>,
  gateUrl: string,
  owner: OwnerSession,
  now = Date.now()
): Promise<void> {
  await cookies.set({
    url: gateUrl,
    name: owner.cookieName,
    value: owner.value,
    path: '/',
    httpOnly: true,
    secure: false,
    sameSite: 'lax',
    expirationDate: Math.floor(now / 1000) + owner.maxAgeSeconds,
  });
}

/** A navigation a newer one replaced: not a failure worth telling anyone about. */
function isAborted(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ERR_ABORTED';
}

export function createWindows(deps: WindowDeps): Windows {
  let dashboard: BrowserWindow | undefined;
  let comfy: BrowserWindow | undefined;

  const signIn = async (): Promise<void> => {
    // A fresh session on every open: the app may run longer than one session lasts.
    await signInPartition(session.fromPartition(GATE_PARTITION).cookies, deps.gateUrl, await deps.ownerSession());
  };

  const present = (window: BrowserWindow): void => {
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
    if (deps.platform === 'darwin') app.focus({ steal: true });
  };

  const load = async (window: BrowserWindow, url: string): Promise<void> => {
    try {
      await window.loadURL(url);
    } catch (error) {
      if (!isAborted(error)) throw error;
    }
  };

  /** Keeps each window to its own pages; everything else goes where it belongs. */
  const confine = (contents: WebContents, own: NavigationTarget): void => {
    const elsewhere = (url: string): void => {
      const target = classifyNavigation(url, deps.gateUrl);
      if (target === 'comfyui') void windows.openComfyUI().catch(() => undefined);
      else if (target === 'dashboard') void showDashboardAt(url).catch(() => undefined);
      else if (target === 'external') void shell.openExternal(url);
    };
    contents.on('will-navigate', (details) => {
      if (classifyNavigation(details.url, deps.gateUrl) === own) return;
      details.preventDefault();
      elsewhere(details.url);
    });
    contents.setWindowOpenHandler(({ url }) => {
      elsewhere(url);
      return { action: 'deny' };
    });
  };

  const ensureDashboard = (): BrowserWindow => {
    if (dashboard && !dashboard.isDestroyed()) return dashboard;
    const window = new BrowserWindow(dashboardWindowOptions(deps.preload, deps.icon));
    window.on('close', (event) => {
      if (deps.isQuitting()) return;
      // Closing hides to the tray; Quit is in the tray menu.
      event.preventDefault();
      window.hide();
    });
    window.on('closed', () => {
      dashboard = undefined;
    });
    confine(window.webContents, 'dashboard');
    dashboard = window;
    return window;
  };

  const showDashboardAt = async (url: string): Promise<void> => {
    await signIn();
    const window = ensureDashboard();
    present(window);
    await load(window, url);
  };

  const windows: Windows = {
    async openDashboard(route = '') {
      await signIn();
      const window = ensureDashboard();
      const firstLoad = window.webContents.getURL() === '';
      present(window);
      if (firstLoad || route !== '') await load(window, dashboardUrl(deps.gateUrl, route));
    },
    async openComfyUI() {
      if (comfy && !comfy.isDestroyed()) {
        present(comfy);
        return;
      }
      await signIn();
      const window = new BrowserWindow(comfyWindowOptions(deps.icon));
      window.on('closed', () => {
        if (comfy === window) comfy = undefined;
      });
      // ComfyUI asks before leaving a workflow with unsaved changes; Electron would otherwise just refuse.
      window.webContents.on('will-prevent-unload', (event) => {
        const leave = dialog.showMessageBoxSync(window, {
          type: 'question',
          message: 'Close ComfyUI?',
          detail: 'Changes you made to the open workflow may not be saved.',
          buttons: ['Close', 'Stay'],
          defaultId: 1,
          cancelId: 1,
        });
        if (leave === 0) event.preventDefault();
      });
      confine(window.webContents, 'comfyui');
      comfy = window;
      present(window);
      await load(window, `${deps.gateUrl}/`);
    },
    dashboardContents() {
      return dashboard && !dashboard.isDestroyed() ? dashboard.webContents : undefined;
    },
  };
  return windows;
}
