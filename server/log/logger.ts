import { pino, type Logger } from 'pino';

export type { Logger };

/** The app's own log: JSON lines on stderr, so stdout stays for the lines other tools read. */
export function createLogger(level: string): Logger {
  return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: false }));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
