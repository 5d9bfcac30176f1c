/** Absolute POSIX or Windows paths inside an error text: they show how the server is laid out. */
const ABSOLUTE_PATH = /(?:[A-Za-z]:[\\/]|\/)(?:[^\s'"\\/:]+[\\/])+([^\s'"\\/:]*)/g;

/** An error message as a teammate sees it: each server path cut down to its file name. */
export function redactPaths(message: string): string {
  return message.replace(ABSOLUTE_PATH, (_path, file: string) => (file ? `…/${file}` : '…'));
}

/**
 * The data of an `execution_error` (WebSocket message or history status message) for a caller who
 * is not an operator: no traceback, and no server paths in the message. The node, its type and the
 * exception type stay, so the teammate still knows what failed.
 */
export function redactExecutionError(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...data };
  if ('traceback' in out) out['traceback'] = [];
  if (typeof out['exception_message'] === 'string') out['exception_message'] = redactPaths(out['exception_message']);
  return out;
}

/**
 * `/system_stats` for a caller who is not an operator: `argv` keeps only the flag names (the
 * frontend looks for some, e.g. `--multi-user`); paths, addresses and values are dropped.
 */
export function redactArgv(argv: unknown): string[] {
  if (!Array.isArray(argv)) return [];
  const flags: string[] = [];
  for (const arg of argv) {
    if (typeof arg !== 'string' || !arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    flags.push(eq === -1 ? arg : arg.slice(0, eq));
  }
  return flags;
}
