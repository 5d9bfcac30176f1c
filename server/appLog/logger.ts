import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  /** Human-readable lines instead of JSON; default: when stderr is a terminal. */
  pretty?: boolean;
}

/**
 * The app's own log on stderr, so stdout stays for the lines other tools read. A person at a terminal gets readable
 * lines; anything else (a file, journald, a log shipper) gets JSON, one object per line.
 */
export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  if (options.pretty ?? process.stderr.isTTY === true) {
    // In-process, not a worker transport: a terminal log is low volume, and this also runs inside Electron.
    return pino(
      { level, base: undefined },
      pretty({ destination: 2, sync: false, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    );
  }
  return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: false }));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
