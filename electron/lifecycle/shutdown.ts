import type { App } from 'electron';

export interface Shutdown {
  /** Adds a step; steps run last-added first (the tray goes before the gate it shows). */
  defer(name: string, step: () => Promise<void> | void): void;
  /** Runs every step in order, awaiting each, then exits with `exitCode` (1 if a step failed). */
  quit(exitCode?: number): Promise<void>;
  isQuitting(): boolean;
}

export interface ShutdownOptions {
  /** How long one step may take before the app gives up on it. */
  stepTimeoutMs: number;
  log(message: string, error?: unknown): void;
}

/**
 * An ordered, awaited shutdown. Every way out (tray Quit, Cmd-Q, logout, a signal) becomes
 * `before-quit`, which is held until the gate has stopped and flushed; then `app.exit`.
 */
export function createShutdown(app: Pick<App, 'on' | 'exit'>, options: ShutdownOptions): Shutdown {
  const steps: Array<{ name: string; step: () => Promise<void> | void }> = [];
  let quitting: Promise<void> | undefined;

  const runStep = async (name: string, step: () => Promise<void> | void): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${options.stepTimeoutMs} ms`)), options.stepTimeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(step), timeout]);
      return true;
    } catch (error) {
      options.log(`shutdown: ${name} failed`, error);
      return false;
    } finally {
      clearTimeout(timer);
    }
  };

  const shutdown: Shutdown = {
    defer(name, step) {
      steps.push({ name, step });
    },
    quit(exitCode = 0) {
      quitting ??= (async () => {
        let code = exitCode;
        for (const { name, step } of [...steps].reverse()) {
          if (!(await runStep(name, step))) code = code || 1;
        }
        app.exit(code);
      })();
      return quitting;
    },
    isQuitting() {
      return quitting !== undefined;
    },
  };

  app.on('before-quit', (event) => {
    event.preventDefault();
    shutdown.quit().catch((error: unknown) => options.log('shutdown failed', error));
  });
  // A tray app keeps running with every window closed.
  app.on('window-all-closed', () => undefined);
  return shutdown;
}
