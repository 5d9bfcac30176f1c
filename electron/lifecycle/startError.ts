import { ConfigError } from '../../server/contract/desktop.js';

/** One sentence for the "could not start" dialog, from whatever start-up threw. */
export function describeStartError(error: unknown, listen?: { host: string; port: number }): string {
  if (error instanceof ConfigError) return `A setting is wrong: ${error.message}`;
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  const where = listen ? `${listen.host}:${listen.port}` : 'the gate’s address';
  if (code === 'EADDRINUSE') {
    return `Port ${listen?.port ?? ''} on ${listen?.host ?? 'this computer'} is already in use. Is ComfyGate (or \`comfygate serve\`) already running? Stop it, or pick another port ("port" in settings.json).`;
  }
  if (code === 'EADDRNOTAVAIL')
    return `Cannot listen on ${where}: this computer has no such address ("host" in settings.json).`;
  if (code === 'EACCES') return `Not allowed to listen on ${where}.`;
  return error instanceof Error ? error.message : String(error);
}
