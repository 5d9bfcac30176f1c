import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultDataDir } from '../config/dataDir.js';
import { envName } from '../config/schema.js';
import { CliError, EXIT_USAGE } from './exitCodes.js';

export interface DataDirFlags {
  dataDir?: string;
}

const DATA_DIR_ENV = envName('dataDir');

/** Every command takes --data-dir; declared per command so it also works after the subcommand name. */
export function addDataDirOption(command: Command): Command {
  return command.option('--data-dir <dir>', `folder for keys, settings, usage and logs (or ${DATA_DIR_ENV})`);
}

/**
 * The flag as given on this command or on a parent (`keys --data-dir X list` and `keys list --data-dir X` alike).
 * Commander hands an option known to both to the parent, so the whole chain is searched, nearest first.
 */
export function dataDirFlag(command: Command): string | undefined {
  for (let current: Command | null = command; current; current = current.parent) {
    const value = current.getOptionValue('dataDir') as unknown;
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * The same order as `serve` (flag > COMFYGATE_DATA_DIR > per-user default), so the CLI edits the files the
 * gate reads. The folder is created private (it will hold key hashes and request logs), and a new one is
 * announced on stderr: a mistyped --data-dir must not pass silently as an empty store. Commands that only
 * read (`create: false`) leave a missing folder alone.
 */
export async function resolveDataDir(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  { create = true }: { create?: boolean } = {}
): Promise<string> {
  if (flag !== undefined && flag.trim() === '') throw new CliError('--data-dir needs a folder path', EXIT_USAGE);
  const fromEnv = env[DATA_DIR_ENV];
  const dir = resolve(flag ?? (fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv : defaultDataDir(env)));
  if (existsSync(dir) || !create) return dir;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new CliError(`cannot create the data folder ${dir}: ${(error as Error).message}`);
  }
  process.stderr.write(`comfygate: created a new, empty data folder ${dir} (no gate has used it yet)\n`);
  return dir;
}
