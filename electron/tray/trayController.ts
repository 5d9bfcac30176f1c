import type { Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import type { DesktopState } from '../ipc/contract.js';
import { trayIconName, trayTooltip, type TrayIconName } from './trayAppearance.js';
import { buildTrayTemplate, type TrayActions } from './trayMenu.js';

export interface TrayControllerDeps {
  tray: Pick<Tray, 'setImage' | 'setToolTip' | 'setContextMenu' | 'isDestroyed' | 'destroy'>;
  state(): DesktopState;
  actions: TrayActions;
  icon(name: TrayIconName): NativeImage;
  buildMenu(template: MenuItemConstructorOptions[]): Menu;
  /** Called with each state that was applied (the dashboard hears about it too). */
  onApplied?(state: DesktopState): void;
}

export interface TrayController {
  /** Re-applies icon, tooltip and menu when the state changed (or always, with `force`); returns the state. */
  refresh(force?: boolean): DesktopState;
  dispose(): void;
}

/**
 * Owns the tray: one explicit "last applied" state, no other mutable flags. Linux (AppIndicator)
 * caches the menu it was given, so every change sets a fresh one.
 */
export function createTrayController(deps: TrayControllerDeps): TrayController {
  let applied: string | undefined;
  return {
    refresh(force = false) {
      const state = deps.state();
      const key = JSON.stringify(state);
      if (deps.tray.isDestroyed() || (!force && key === applied)) return state;
      applied = key;
      deps.tray.setImage(deps.icon(trayIconName(state)));
      deps.tray.setToolTip(trayTooltip(state));
      deps.tray.setContextMenu(deps.buildMenu(buildTrayTemplate(state, deps.actions)));
      deps.onApplied?.(state);
      return state;
    },
    dispose() {
      if (!deps.tray.isDestroyed()) deps.tray.destroy();
    },
  };
}
