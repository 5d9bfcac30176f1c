import type { App } from 'electron';

/**
 * One ComfyGate per user: a second launch quits at once, and the first one is told so it can show
 * its window. Returns false when this process lost (and has asked to quit).
 */
export function claimSingleInstance(
  app: Pick<App, 'requestSingleInstanceLock' | 'quit' | 'on'>,
  onSecondInstance: (argv: string[]) => void
): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', (_event, argv) => onSecondInstance(argv));
  return true;
}

/** Started at login (`--hidden`, or macOS says so): stay in the tray. */
export function startsHidden(argv: readonly string[], openedAtLogin: boolean): boolean {
  return openedAtLogin || argv.includes('--hidden');
}
