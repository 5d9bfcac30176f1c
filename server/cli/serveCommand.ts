import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../config/loadConfig.js';
import { startGate } from '../gate.js';
import { isLoopbackBind } from '../pipeline/hostNames.js';
import { localGateUrl } from '../net/shareAddress.js';
import { authModeSchema, type AuthMode } from '../settings/settingsSchema.js';
import { SettingsStore } from '../settings/settingsStore.js';
import { createLogger } from '../appLog/logger.js';
import { CliError, EXIT_USAGE } from './exitCodes.js';
import { TlsSetupError } from '../tls/gateCertificate.js';

export interface ServeFlags {
  /** Every --upstream given, in order: one is the single upstream, several are backends. */
  upstream?: string[];
  host?: string;
  port?: string;
  dataDir?: string;
  auth?: string;
  allowUnprotected?: boolean;
  https?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  redis?: string;
}

const DASHBOARD_DIR = fileURLToPath(new URL('../../renderer/', import.meta.url));

/** `comfygate serve`: runs until SIGINT/SIGTERM, then shuts down in order and exits 0. */
export async function serve(flags: ServeFlags): Promise<void> {
  const { upstream, ...rest } = flags;
  const upstreamFlags =
    upstream === undefined ? {} : upstream.length === 1 ? { upstream: upstream[0] } : { upstreams: upstream };
  const config = await loadConfig({ flags: { ...rest, ...upstreamFlags, redisUrl: flags.redis } }).catch(
    (error: unknown) => {
      if (error instanceof ConfigError) throw new CliError(error.message, EXIT_USAGE);
      throw error;
    }
  );
  const mode = flags.auth === undefined ? undefined : authModeSchema.safeParse(flags.auth);
  if (mode && !mode.success)
    throw new CliError(`invalid --auth "${flags.auth}": expected off, optional or required`, EXIT_USAGE);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const effectiveMode = mode?.data ?? (await savedMode(config.dataDir));
  if (effectiveMode === 'off' && !isLoopbackBind(config.host) && !flags.allowUnprotected) {
    throw new CliError(
      `refusing to share ComfyUI on ${config.host} with protection off: anyone on the network could use it. ` +
        'Use --auth required, or confirm with --allow-unprotected',
      EXIT_USAGE
    );
  }
  const logger = createLogger(config.logLevel);
  const gate = await startGate({
    config,
    logger,
    dashboardDir: DASHBOARD_DIR,
    mode: mode?.data,
    legacyApiKey: process.env['COMFYGATE_API_KEY'] || undefined,
  }).catch((error: unknown) => {
    if (error instanceof TlsSetupError) throw new CliError(error.message, EXIT_USAGE);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new CliError(`port ${config.port} on ${config.host} is already in use; pick another with --port`);
    if (code === 'EADDRNOTAVAIL')
      throw new CliError(`cannot listen on ${config.host}: no such address on this machine`);
    if (code === 'EACCES') throw new CliError(`not allowed to listen on ${config.host}:${config.port}`);
    throw error;
  });

  // A wildcard address (0.0.0.0) is not one anybody can open: print the loopback URL for this
  // machine and the share link for teammates.
  const { listen, share } = gate.state;
  const localUrl = localGateUrl(listen, gate.state.tls ? 'https' : 'http');
  process.stdout.write(`ComfyGate listening on ${localUrl}\n`);
  process.stdout.write(`Dashboard: ${localUrl}/gate/  ·  ComfyUI upstream: ${gate.state.upstream.url}\n`);
  process.stdout.write(`Protection: ${gate.state.mode}\n`);
  const { tls } = gate.state;
  if (tls) {
    process.stdout.write(
      `HTTPS: ${tls.selfSigned ? 'self-signed certificate' : 'your certificate'}, valid to ${tls.validTo.slice(0, 10)}, SHA-256 fingerprint ${tls.fingerprint256}\n`
    );
  }
  process.stdout.write(
    share.reachableFromLan
      ? `Teammates open: ${share.urls.join('  ·  ')}\n`
      : isLoopbackBind(listen.host)
        ? 'Sharing: this computer only; teammates cannot connect (`comfygate share on` shares on your network, live)\n'
        : `Sharing: ${share.note ?? ''}\n`
  );
  if (gate.initialAdminKey) process.stdout.write(firstStartBanner(localUrl, gate.initialAdminKey));

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

/** Shown once, like Jupyter's token: only the hash is stored, so this is the one chance to copy it. */
function firstStartBanner(url: string, key: string): string {
  return [
    '',
    'First start: created an admin key. It is shown only this once — copy it now:',
    '',
    `    ${key}`,
    '',
    `Sign in at ${url}/gate/login, or send it as "X-API-Key: <key>".`,
    'Create keys for teammates with `comfygate keys create --name NAME`.',
    '',
  ].join('\n');
}

async function savedMode(dataDir: string): Promise<AuthMode> {
  const settings = await SettingsStore.open(dataDir);
  try {
    return settings.current.mode;
  } finally {
    await settings.close();
  }
}
