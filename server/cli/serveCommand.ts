import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../config/loadConfig.js';
import { startGate } from '../gate.js';
import { createLogger } from '../log/logger.js';
import { CliError, EXIT_USAGE } from './exitCodes.js';

export interface ServeFlags {
  upstream?: string;
  host?: string;
  port?: string;
  dataDir?: string;
}

const DASHBOARD_DIR = fileURLToPath(new URL('../../renderer/', import.meta.url));

/** `comfygate serve`: runs until SIGINT/SIGTERM, then shuts down in order and exits 0. */
export async function serve(flags: ServeFlags): Promise<void> {
  const config = await loadConfig({ flags: flags }).catch((error: unknown) => {
    if (error instanceof ConfigError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  });
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const logger = createLogger(config.logLevel);
  const gate = await startGate({ config, logger, dashboardDir: DASHBOARD_DIR }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new CliError(`port ${config.port} on ${config.host} is already in use; pick another with --port`);
    if (code === 'EADDRNOTAVAIL')
      throw new CliError(`cannot listen on ${config.host}: no such address on this machine`);
    if (code === 'EACCES') throw new CliError(`not allowed to listen on ${config.host}:${config.port}`);
    throw error;
  });

  process.stdout.write(`ComfyGate listening on ${gate.url}\n`);
  process.stdout.write(`Dashboard: ${gate.url}/gate/  ·  ComfyUI upstream: ${gate.state.upstream.url}\n`);

  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'shutting down');
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await gate.stop();
  logger.flush();
}
