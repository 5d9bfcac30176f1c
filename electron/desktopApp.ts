import { mkdir } from 'node:fs/promises';
import { homedir, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { app, clipboard, dialog, Menu, nativeImage, Notification, shell, Tray, type NativeImage } from 'electron';
import {
  loadConfig,
  startGate as startRealGate,
  probeComfyUI,
  discoverUpstream,
  localGateUrl,
  type GateHandle,
  type StartGateOptions,
  type Discovery,
  type AuthMode,
  type Interfaces,
} from '../server/contract/desktop.js';
import { askFirstRunUpstream, protectionAtStart, welcomeFirstRun } from './firstRun/startQuestions.js';
import { registerAppHandlers } from './ipc/appHandlers.js';
import { IPC_CHANNELS, type DesktopState } from './ipc/contract.js';
import { push } from './ipc/mainIpc.js';
import type { DesktopPaths } from './lifecycle/appPaths.js';
import { readDesktopFile } from './lifecycle/desktopFile.js';
import { createDesktopLogger } from './lifecycle/desktopLogger.js';
import { createLoginItem } from './lifecycle/loginItem.js';
import type { Shutdown } from './lifecycle/shutdown.js';
import { startsHidden } from './lifecycle/singleInstance.js';
import { describeStartError } from './lifecycle/startError.js';
import { bypassAdvice } from './net/bypass.js';
import { createBypassWatch } from './net/bypassWatch.js';
import { listenToGate } from './notify/gateListeners.js';
import { noticeContent, type GateNotice } from './notify/gateNotices.js';
import { createUpstreamNotices } from './notify/upstreamNotices.js';
import { createBackendNotices } from './notify/backendNotices.js';
import { buildDesktopState, type DesktopExtras } from './state/desktopState.js';
import { isGateCertificate } from './net/gateCertificate.js';
import { createTrayActions } from './tray/trayActions.js';
import { trayIconName, trayIconPath, type TrayIconName } from './tray/trayAppearance.js';
import { createTrayController } from './tray/trayController.js';
import { MODE_TITLES } from './tray/trayMenu.js';
import { isDashboardUrl } from './window/navigation.js';
import { createWindows } from './window/windows.js';

export const APP_ID = 'dev.comfygate.app';
/** requestsToday changes with every request and has no event of its own. */
const REFRESH_MS = 10_000;
/** ComfyUI restarting (a custom node installed, a model switch) is not worth a notification. */
const COMFY_DOWN_GRACE_MS = 20_000;

export const MODE_NOTICES: Record<AuthMode, string> = {
  off: 'Anyone who can connect uses ComfyUI without a key. Requests are still logged.',
  optional: 'Keys are used and counted; guests without a key get the anonymous limits.',
  required: 'Every request to ComfyUI needs a key.',
};

export interface DesktopOptions {
  shutdown: Shutdown;
  paths: DesktopPaths;
  argv: readonly string[];
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Seams for tests; the real gate, discovery and network otherwise. */
  startGate?: (options: StartGateOptions) => Promise<GateHandle>;
  discover?: () => Promise<Discovery>;
  probe?: (url: string) => Promise<boolean>;
  interfaces?: () => Interfaces;
}

export interface DesktopApp {
  gate: GateHandle;
  state(): DesktopState;
  showDashboard(): Promise<void>;
}

/**
 * The desktop app after the single-instance lock: gate, windows, tray, IPC, first run. Each part
 * registers how it stops with `shutdown`, which runs them in reverse (tray, then gate, then log).
 */
export async function startDesktopApp(options: DesktopOptions): Promise<DesktopApp> {
  const { shutdown, paths, env = process.env, platform = process.platform } = options;
  const startGate = options.startGate ?? startRealGate;
  const discover = options.discover ?? (() => discoverUpstream());
  const probe = options.probe ?? ((url: string) => probeComfyUI(url));
  const interfaces = options.interfaces ?? networkInterfaces;

  await app.whenReady();
  if (platform === 'darwin') app.dock?.hide(); // LSUIElement does this for the installed app
  if (platform === 'win32') app.setAppUserModelId(APP_ID); // notifications need it

  const dataDir = app.getPath('userData');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const desktopFile = await readDesktopFile(dataDir);
  const firstRun = !desktopFile.firstRunDone;
  const config = await loadConfig({ flags: { dataDir }, env });
  const logger = createDesktopLogger(config.logLevel, { packaged: app.isPackaged, dataDir });
  shutdown.defer('flush the log', () => logger.flush());

  const upstream = firstRun
    ? await askFirstRunUpstream({ dataDir, configured: config.upstream, discover, probe, icon: paths.appIcon })
    : config.upstream;
  const mode = await protectionAtStart(dataDir, config);
  const gate = await startGate({
    config: { ...config, upstream },
    ...(mode === undefined ? {} : { mode }),
    logger,
    dashboardDir: paths.dashboardDir,
    legacyApiKey: env['COMFYGATE_API_KEY'] || undefined,
  }).catch((error: unknown) => {
    throw new Error(describeStartError(error, config), { cause: error });
  });
  shutdown.defer('stop the gate', () => gate.stop());
  logger.info({ url: gate.url, dataDir }, 'desktop app started the gate');

  const { tls } = gate.state;
  const gateUrl = localGateUrl(gate.state.listen, tls ? 'https' : 'http');
  // Under HTTPS with a self-signed certificate: this app's windows trust exactly the gate's own.
  app.on('certificate-error', (event, _contents, url, _error, certificate, callback) => {
    const own = tls !== null && isGateCertificate(url, certificate.data, gateUrl, tls.fingerprint256);
    if (own) event.preventDefault();
    callback(own);
  });
  const loginItem = createLoginItem({
    app,
    platform,
    executable: env['APPIMAGE'] || process.execPath,
    autostartDir: join(env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), 'autostart'),
  });
  const extras: DesktopExtras = { bypassUrl: null, openAtLogin: loginItem.available ? loginItem.get() : null };
  const state = (): DesktopState => buildDesktopState(gate.state, extras);
  const windows = createWindows({
    gateUrl,
    ownerSession: () => gate.ownerSession(),
    preload: paths.preload,
    icon: paths.appIcon,
    isQuitting: () => shutdown.isQuitting(),
    platform,
  });

  const notify = (title: string, body: string, onClick?: () => void): void => {
    if (!Notification.isSupported()) return;
    const notification = new Notification({ title, body, silent: true });
    if (onClick) notification.on('click', onClick);
    notification.show();
  };
  const report = (action: string, error: unknown): void => {
    logger.warn({ err: error }, `could not ${action}`);
    notify(`Could not ${action}`, error instanceof Error ? error.message : String(error));
  };
  const showBypassHelp = async (bypassUrl: string): Promise<void> => {
    await dialog.showMessageBox(bypassAdvice(bypassUrl));
  };

  const actions = createTrayActions({
    gate,
    state,
    openDashboard: (route) => windows.openDashboard(route),
    openComfyUI: () => windows.openComfyUI(),
    dataDir,
    openPath: (path) => shell.openPath(path),
    writeClipboard: (text) => clipboard.writeText(text),
    setOpenAtLogin: (openAtLogin) => {
      loginItem.set(openAtLogin);
      extras.openAtLogin = loginItem.get();
    },
    ask: async (question) => (await dialog.showMessageBox(question)).response,
    showBypassHelp,
    notify,
    refresh: () => tray.refresh(true),
    quit: () => app.quit(),
    report,
  });

  const icons = new Map<TrayIconName, NativeImage>();
  const icon = (name: TrayIconName): NativeImage => {
    const image = icons.get(name) ?? nativeImage.createFromPath(trayIconPath(name, platform, paths.assetsDir));
    icons.set(name, image);
    return image;
  };
  const systemTray = new Tray(icon(trayIconName(state())));
  if (platform === 'win32') systemTray.on('click', () => actions.openDashboard());
  const tray = createTrayController({
    tray: systemTray,
    state,
    actions,
    icon,
    buildMenu: (template) => Menu.buildFromTemplate(template),
    onApplied: (current) => {
      const contents = windows.dashboardContents();
      if (contents) push(contents, IPC_CHANNELS.stateChanged, current);
    },
  });
  tray.refresh(true);

  const disposeIpc = registerAppHandlers(
    {
      gate,
      state,
      copyShareUrl: () => {
        const { share } = state();
        clipboard.writeText(share.url);
        return share;
      },
      openComfyUI: () => windows.openComfyUI(),
    },
    (frameUrl) => isDashboardUrl(frameUrl, gateUrl)
  );

  const bypass = createBypassWatch({
    upstreamUrl: () => gate.state.upstream.url,
    interfaces,
    probe,
    logger,
    onResult: (found) => {
      extras.bypassUrl = found;
      tray.refresh();
    },
    warn: (found) =>
      notify(
        'ComfyUI is reachable without the gate',
        `Teammates could use ${found} directly. Click to see how to fix it.`,
        () => void showBypassHelp(found)
      ),
  });
  const checkBypass = (): void => {
    bypass.check().catch((error: unknown) => report('check how ComfyUI listens', error));
  };
  const openRoute = (route: string): void => {
    windows.openDashboard(route).catch((error: unknown) => report('open the dashboard', error));
  };
  const notice = (event: GateNotice): void => {
    const content = noticeContent(event, gate.state.notifications);
    if (content !== null) notify(content.title, content.body, () => openRoute(content.route));
  };
  const upstreamNotices = createUpstreamNotices({
    upstreamUrl: gate.state.upstream.url,
    graceMs: COMFY_DOWN_GRACE_MS,
    notify: notice,
    setTimer: (run, ms) => setTimeout(run, ms),
    clearTimer: (timer) => clearTimeout(timer),
  });
  if (gate.state.upstream.reachable === true) upstreamNotices.reachability(true);
  const backendNotices = createBackendNotices({
    graceMs: COMFY_DOWN_GRACE_MS,
    notify: notice,
    setTimer: (run, ms) => setTimeout(run, ms),
    clearTimer: (timer) => clearTimeout(timer),
  });
  for (const backend of gate.state.backends) backendNotices.reachability(backend);
  const stopListening = listenToGate(gate.events, {
    change: () => void tray.refresh(),
    mode: (mode) => notify(`Protection: ${MODE_TITLES[mode]}`, MODE_NOTICES[mode]),
    upstream: (reachable) => {
      upstreamNotices.reachability(reachable);
      if (reachable) checkBypass();
    },
    backend: (backend) => backendNotices.reachability(backend),
    firstUse: (key) => notice({ kind: 'firstUse', key }),
    lockout: (ip, until) => notice({ kind: 'lockout', ip, until }),
    quota: (key) => notice({ kind: 'quota', key }),
  });
  const ticker = setInterval(() => tray.refresh(), REFRESH_MS);
  shutdown.defer('remove the tray', () => {
    clearInterval(ticker);
    upstreamNotices.dispose();
    backendNotices.dispose();
    stopListening();
    disposeIpc();
    tray.dispose();
  });
  checkBypass();

  if (firstRun) {
    await welcomeFirstRun({
      gate,
      probe,
      dataDir,
      desktopFile,
      openDashboard: (route) => windows.openDashboard(route),
    });
  } else if (!startsHidden(options.argv, platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin)) {
    await windows.openDashboard();
  }

  return { gate, state, showDashboard: () => windows.openDashboard() };
}
