import type { MessageBoxOptions } from 'electron';
import type { GateHandle } from '../../server/contract/desktop.js';
import type { DesktopState } from '../ipc/contract.js';
import type { TrayActions } from './trayMenu.js';

/** Dashboard routes (HashRouter) the tray opens. */
export const DASHBOARD_ROUTES = {
  home: '',
  newKey: '#/keys?new=1',
  settings: '#/settings',
  help: '#/help',
  logs: '#/logs',
} as const;

export interface TrayActionDeps {
  gate: Pick<GateHandle, 'setMode' | 'setPaused' | 'setSharing'>;
  state(): DesktopState;
  openDashboard(route: string): Promise<void>;
  openComfyUI(): Promise<void>;
  /** Where keys, settings and logs are kept. */
  dataDir: string;
  /** Electron's shell.openPath: resolves with an error message, empty on success. */
  openPath(path: string): Promise<string>;
  writeClipboard(text: string): void;
  setOpenAtLogin(openAtLogin: boolean): void;
  /** Shows a question; resolves with the index of the button picked. */
  ask(options: MessageBoxOptions): Promise<number>;
  showBypassHelp(bypassUrl: string): Promise<void>;
  notify(title: string, body: string): void;
  /** Re-applies the menu, e.g. after a radio click the operator then cancelled. */
  refresh(): void;
  quit(): void;
  report(action: string, error: unknown): void;
}

/** The confirmation DESIGN.md asks for before switching protection off on a gate the network can reach. */
export function confirmOffOnLan(shareUrl: string): MessageBoxOptions {
  return {
    type: 'warning',
    title: 'Turn protection off?',
    message: 'Turn protection off while the gate is shared on your network?',
    detail: `Anyone who can reach ${shareUrl} could then use ComfyUI without a key. Requests are still logged and counted.`,
    buttons: ['Turn off', 'Cancel'],
    defaultId: 1,
    cancelId: 1,
  };
}

export const SHARE_UNPROTECTED_BUTTONS = { protect: 0, cancel: 1 } as const;

/** The gate refuses the network with protection off; the tray offers to turn protection on first. */
export function shareUnprotectedQuestion(): MessageBoxOptions {
  return {
    type: 'warning',
    title: 'Protection is off',
    message: 'Share on your network with protection off?',
    detail:
      'Anyone on your network could use ComfyUI without a key, so ComfyGate does not share an unprotected gate. Turn protection to Required (teammates need a key) and share?',
    buttons: ['Require keys and share', 'Cancel'],
    defaultId: SHARE_UNPROTECTED_BUTTONS.protect,
    cancelId: SHARE_UNPROTECTED_BUTTONS.cancel,
  };
}

export const UNPROTECTED_START_BUTTONS = { protect: 0, unprotected: 1 } as const;

/** Asked before the gate starts listening on the network while protection is off. */
export function unprotectedStartQuestion(listen: { host: string; port: number }): MessageBoxOptions {
  return {
    type: 'warning',
    title: 'Protection is off',
    message: `ComfyGate is set to listen on ${listen.host}:${listen.port} with protection off.`,
    detail:
      'Anyone on your network could use ComfyUI without a key. Start with protection Required (teammates need a key), or start unprotected anyway?',
    buttons: ['Start with protection Required', 'Start unprotected'],
    defaultId: UNPROTECTED_START_BUTTONS.protect,
    cancelId: UNPROTECTED_START_BUTTONS.protect,
  };
}

/** The tray menu's actions over the gate and the app; clicks never throw, failures are reported. */
export function createTrayActions(deps: TrayActionDeps): TrayActions {
  const run = (action: string, work: () => Promise<void>): void => {
    work().catch((error: unknown) => {
      deps.report(action, error);
      deps.refresh();
    });
  };
  return {
    setMode(mode) {
      run('change protection', async () => {
        const { share } = deps.state();
        if (mode === 'off' && share.reachableFromLan && (await deps.ask(confirmOffOnLan(share.url))) !== 0) {
          deps.refresh();
          return;
        }
        await deps.gate.setMode(mode);
      });
    },
    setPaused(paused) {
      deps.gate.setPaused(paused);
    },
    setSharing(network) {
      run('change sharing', async () => {
        if (network && deps.state().mode === 'off') {
          if ((await deps.ask(shareUnprotectedQuestion())) !== SHARE_UNPROTECTED_BUTTONS.protect) {
            deps.refresh();
            return;
          }
          await deps.gate.setMode('required');
        }
        const { share } = await deps.gate.setSharing(network);
        deps.notify(
          network ? 'Shared on your network' : 'This computer only',
          network
            ? (share.note ?? `Teammates open ${share.url} and sign in with their key.`)
            : 'Nobody else can connect now.'
        );
      });
    },
    openDashboard() {
      run('open the dashboard', () => deps.openDashboard(DASHBOARD_ROUTES.home));
    },
    newKey() {
      run('open the dashboard', () => deps.openDashboard(DASHBOARD_ROUTES.newKey));
    },
    openHelp() {
      run('open the help', () => deps.openDashboard(DASHBOARD_ROUTES.help));
    },
    viewLogs() {
      run('open the logs', () => deps.openDashboard(DASHBOARD_ROUTES.logs));
    },
    openDataFolder() {
      run('open the data folder', async () => {
        const problem = await deps.openPath(deps.dataDir);
        if (problem !== '') throw new Error(`${deps.dataDir}: ${problem}`);
      });
    },
    copyShareUrl() {
      const { share } = deps.state();
      deps.writeClipboard(share.url);
      deps.notify('Share URL copied', share.note ?? `Teammates open ${share.url} and sign in with their key.`);
    },
    openComfyUI() {
      run('open ComfyUI', () => deps.openComfyUI());
    },
    setOpenAtLogin(openAtLogin) {
      try {
        deps.setOpenAtLogin(openAtLogin);
      } catch (error) {
        deps.report('change start at login', error);
      }
      deps.refresh();
    },
    showBypassHelp() {
      const { bypassUrl } = deps.state();
      if (bypassUrl !== null) run('show the warning', () => deps.showBypassHelp(bypassUrl));
    },
    quit() {
      deps.quit();
    },
  };
}
