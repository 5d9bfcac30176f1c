import type { Command } from 'commander';
import { silentLogger } from '../appLog/logger.js';
import { ConfigError, loadConfig } from '../config/loadConfig.js';
import { envName } from '../config/schema.js';
import { SharedState } from '../redis/sharedState.js';
import { addDataDirOption } from './dataDirOption.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './exitCodes.js';

const REDIS_ENV = envName('redisUrl');

/** --data-dir and --redis: the commands that read or change what several gates share. */
export function addStateOptions(command: Command): Command {
  return addDataDirOption(command).option(
    '--redis <url>',
    `the Redis that several gates share keys through (or ${REDIS_ENV}, or redisUrl in settings.json)`
  );
}

/** Like dataDirFlag(): the nearest --redis in the command chain. */
function redisFlag(command: Command): string | undefined {
  for (let current: Command | null = command; current; current = current.parent) {
    const value = current.getOptionValue('redis') as unknown;
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * The Redis the gates of this data dir share, as `serve` would find it (flag > environment > settings.json), or
 * undefined when they use the files alone. An unreachable Redis fails the command: its keys would be a stale copy.
 */
export async function openSharedState(command: Command, dataDir: string): Promise<SharedState | undefined> {
  const config = await loadConfig({ flags: { dataDir, redisUrl: redisFlag(command) } }).catch((error: unknown) => {
    throw error instanceof ConfigError ? new CliError(error.message, EXIT_USAGE) : error;
  });
  if (config.redisUrl === undefined) return undefined;
  const shared = await SharedState.open({ url: config.redisUrl, logger: silentLogger(), role: 'cli' });
  if (shared.link.online) return shared;
  await shared.close();
  throw new CliError(`Redis at ${shared.link.label} does not answer; nothing was read or changed`, EXIT_FAILURE);
}

/** What the CLI says once a change it made through Redis is in force. */
export async function appliedThroughRedis(shared: SharedState): Promise<string> {
  const live = await shared.registry.liveIds().catch(() => new Set<string>());
  return `In force on every running gate sharing Redis at ${shared.link.label} (${live.size} running).`;
}
