import {
  SettingsStore,
  isLoopbackHost,
  type AuthMode,
  type Discovery,
  type GateHandle,
} from '../../server/contract/desktop.js';
import { clipboard, dialog } from 'electron';
import { writeDesktopFile, type DesktopFile } from '../lifecycle/desktopFile.js';
import { DASHBOARD_ROUTES, UNPROTECTED_START_BUTTONS, unprotectedStartQuestion } from '../tray/trayActions.js';
import { FIRST_KEY_BUTTONS, firstKeyOffer, resolveFirstRunUpstream } from './firstRun.js';
import { askForUpstream } from './upstreamPrompt.js';

export interface FirstRunUpstreamQuestion {
  dataDir: string;
  /** The upstream from settings.json or COMFYGATE_UPSTREAM, if any. */
  configured: string | undefined;
  discover: () => Promise<Discovery>;
  probe: (url: string) => Promise<boolean>;
  icon: string;
}

/** Where ComfyUI is on a first run; the operator is asked when nothing answers, and the answer saved. */
export function askFirstRunUpstream({
  dataDir,
  configured,
  discover,
  probe,
  icon,
}: FirstRunUpstreamQuestion): Promise<string | undefined> {
  return resolveFirstRunUpstream({
    configured,
    discover,
    ask: () => askForUpstream({ probe, discover, icon }),
    save: (url) => saveUpstream(dataDir, url),
  });
}

/**
 * DESIGN.md: listening on the network with protection off needs the operator's explicit yes. The mode to
 * start in: 'required' unless the operator confirms starting unprotected; undefined lets settings.json decide.
 */
export async function protectionAtStart(
  dataDir: string,
  listen: { host: string; port: number }
): Promise<AuthMode | undefined> {
  if (!(await startsUnprotectedOnNetwork(dataDir, listen.host))) return undefined;
  const { response } = await dialog.showMessageBox(unprotectedStartQuestion(listen));
  return response === UNPROTECTED_START_BUTTONS.protect ? 'required' : undefined;
}

export interface FirstRunWelcome {
  gate: GateHandle;
  probe: (url: string) => Promise<boolean>;
  dataDir: string;
  desktopFile: DesktopFile;
  openDashboard: (route?: string) => Promise<void>;
}

/**
 * The first run's welcome: offers the first teammate key (and to copy the one-time admin key), marks the
 * first run done, and opens the dashboard where the answer leads.
 */
export async function welcomeFirstRun({
  gate,
  probe,
  dataDir,
  desktopFile,
  openDashboard,
}: FirstRunWelcome): Promise<void> {
  const offer = await dialog.showMessageBox(
    firstKeyOffer({
      upstreamUrl: gate.state.upstream.url,
      upstreamReachable: gate.state.upstream.reachable ?? (await probe(gate.state.upstream.url)),
      mode: gate.state.mode,
      hasAdminKey: gate.initialAdminKey !== undefined,
    })
  );
  if (offer.checkboxChecked && gate.initialAdminKey !== undefined) clipboard.writeText(gate.initialAdminKey);
  await writeDesktopFile(dataDir, { ...desktopFile, firstRunDone: true });
  await openDashboard(offer.response === FIRST_KEY_BUTTONS.create ? DASHBOARD_ROUTES.newKey : DASHBOARD_ROUTES.home);
}

async function startsUnprotectedOnNetwork(dataDir: string, host: string): Promise<boolean> {
  if (isLoopbackHost(host)) return false;
  const settings = await SettingsStore.open(dataDir);
  try {
    return settings.current.mode === 'off';
  } finally {
    await settings.close();
  }
}

/** The first-run answer goes where the dashboard's start-up settings go: settings.json. */
async function saveUpstream(dataDir: string, upstream: string): Promise<void> {
  const settings = await SettingsStore.open(dataDir);
  try {
    await settings.updateStartup({ upstream });
  } finally {
    await settings.close();
  }
}
