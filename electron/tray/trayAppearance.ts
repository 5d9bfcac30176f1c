import { join } from 'node:path';
import type { DesktopState } from '../ipc/contract.js';
import { MODE_TITLES, upstreamLabel } from './trayMenu.js';

export const TRAY_ICONS = ['off', 'optional', 'required', 'unreachable', 'paused'] as const;
export type TrayIconName = (typeof TRAY_ICONS)[number];

/** The most urgent fact wins: ComfyUI unreachable, then sharing paused, then the protection mode. */
export function trayIconName(state: DesktopState): TrayIconName {
  if (state.upstream.reachable === false) return 'unreachable';
  if (state.paused) return 'paused';
  return state.mode;
}

/**
 * The file for a state. macOS gets the black template image (the menu bar tints it for light and
 * dark); elsewhere the coloured one. Electron picks the `@2x` file next to it on dense screens.
 */
export function trayIconPath(name: TrayIconName, platform: NodeJS.Platform, assetsDir: string): string {
  return join(assetsDir, 'tray', platform === 'darwin' ? `${name}Template.png` : `${name}.png`);
}

/** "ComfyGate · Protection: Required · ComfyUI online" (well under Windows' 127 characters). */
export function trayTooltip(state: DesktopState): string {
  return [
    'ComfyGate',
    `Protection: ${MODE_TITLES[state.mode]}`,
    ...(state.paused ? ['Sharing paused'] : []),
    upstreamLabel(state.upstream.reachable),
  ].join(' · ');
}
