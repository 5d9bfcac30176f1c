import type { MessageBoxOptions } from 'electron';
import type { Discovery, AuthMode } from '../../server/contract/desktop.js';
import { MODE_TITLES } from '../tray/trayMenu.js';

export interface FirstRunUpstreamDeps {
  /** The upstream from settings.json or COMFYGATE_UPSTREAM, if any. */
  configured: string | undefined;
  discover(): Promise<Discovery>;
  ask(): Promise<string | undefined>;
  /** Keeps the answer in settings.json, so later starts (and the CLI) use it too. */
  save(upstream: string): Promise<void>;
}

/**
 * Where ComfyUI is, on first run: a configured address wins; else 127.0.0.1:8188, then :8000;
 * else the operator is asked. Undefined leaves it to the gate (which waits on 8188).
 */
export async function resolveFirstRunUpstream(deps: FirstRunUpstreamDeps): Promise<string | undefined> {
  if (deps.configured !== undefined) return deps.configured;
  const discovery = await deps.discover();
  if (discovery.found) return discovery.url;
  const answer = await deps.ask();
  if (answer !== undefined) await deps.save(answer);
  return answer;
}

export interface FirstKeyOfferFacts {
  upstreamUrl: string;
  upstreamReachable: boolean | undefined;
  mode: AuthMode;
  /** The admin key the gate made on this first start (for scripts and the CLI), if it made one. */
  hasAdminKey: boolean;
}

export const FIRST_KEY_BUTTONS = { create: 0, later: 1 } as const;

/** The first-run welcome: offers to create the first teammate key, and to copy the one-time admin key. */
export function firstKeyOffer(facts: FirstKeyOfferFacts): MessageBoxOptions {
  const where =
    facts.upstreamReachable === false
      ? `ComfyGate will guard ComfyUI at ${facts.upstreamUrl} as soon as it starts.`
      : `ComfyGate is guarding ComfyUI at ${facts.upstreamUrl}.`;
  return {
    type: 'info',
    title: 'ComfyGate is running',
    message: where,
    detail: [
      `Protection is ${MODE_TITLES[facts.mode]}${facts.mode === 'required' ? ': every teammate needs a key' : ''}.`,
      'Create a key for your first teammate now? You can always do it later: New key… in the tray menu.',
    ].join('\n\n'),
    buttons: ['Create a teammate key…', 'Later'],
    defaultId: FIRST_KEY_BUTTONS.create,
    cancelId: FIRST_KEY_BUTTONS.later,
    ...(facts.hasAdminKey
      ? {
          checkboxLabel: 'Copy the admin key for scripts and the CLI to the clipboard (it cannot be shown again)',
          checkboxChecked: false,
        }
      : {}),
  };
}
