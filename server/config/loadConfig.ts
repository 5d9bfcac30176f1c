import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defaultDataDir } from './dataDir.js';
import { CONFIG_KEYS, envName, gateConfigSchema, type ConfigKey, type GateConfig } from './schema.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Source = 'default' | 'settings.json' | 'environment' | 'command line';
type RawValues = Partial<Record<ConfigKey, unknown>>;

export interface ConfigSources {
  /** Values given on the command line (already named by config key). */
  flags?: RawValues;
  env?: NodeJS.ProcessEnv;
}

/**
 * Merges defaults < settings.json < COMFYGATE_* environment < command-line flags and validates the
 * result once. A bad value becomes one line naming the setting, where it came from and what is expected.
 */
export async function loadConfig({ flags = {}, env = process.env }: ConfigSources = {}): Promise<GateConfig> {
  const fromEnv = readEnv(env);
  const dataDir = pick(flags.dataDir, fromEnv.dataDir) ?? defaultDataDir(env);
  if (typeof dataDir !== 'string' || dataDir.trim() === '') {
    throw new ConfigError('invalid dataDir: expected a folder path');
  }
  const fromFile = await readSettingsFile(dataDir);

  const merged: RawValues = {};
  const origin: Partial<Record<ConfigKey, Source>> = {};
  for (const key of CONFIG_KEYS) {
    for (const [source, values] of [
      ['settings.json', fromFile],
      ['environment', fromEnv],
      ['command line', flags],
    ] as const) {
      if (values[key] !== undefined) {
        merged[key] = values[key];
        origin[key] = source;
      }
    }
  }
  merged.dataDir = dataDir;
  dropOutrankedUpstream(merged, origin);

  const parsed = gateConfigSchema.safeParse(merged);
  if (parsed.success) return parsed.data;
  throw new ConfigError(describeIssue(parsed.error.issues[0], merged, origin));
}

const SOURCE_RANK: Record<Source, number> = { default: 0, 'settings.json': 1, environment: 2, 'command line': 3 };

/**
 * `upstream` and `upstreams` name the same thing: the one from the stronger source is used (one `--upstream`
 * on the command line beats a list in settings.json), and `upstreams` when both come from the same place.
 */
function dropOutrankedUpstream(merged: RawValues, origin: Partial<Record<ConfigKey, Source>>): void {
  if (merged.upstream === undefined || merged.upstreams === undefined) return;
  const single = SOURCE_RANK[origin.upstream ?? 'default'];
  const several = SOURCE_RANK[origin.upstreams ?? 'default'];
  if (single > several) delete merged.upstreams;
  else delete merged.upstream;
}

function pick(...values: unknown[]): unknown {
  return values.find((value) => value !== undefined);
}

function readEnv(env: NodeJS.ProcessEnv): RawValues {
  const values: RawValues = {};
  for (const key of CONFIG_KEYS) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') values[key] = value;
  }
  return values;
}

async function readSettingsFile(dataDir: string): Promise<RawValues> {
  const file = join(dataDir, 'settings.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ConfigError(`${file} is not valid JSON; fix or delete it`);
  }
  const parsed = z.record(z.string(), z.unknown()).safeParse(data);
  if (!parsed.success) throw new ConfigError(`${file} must hold a JSON object`);
  const values: RawValues = {};
  for (const key of CONFIG_KEYS) {
    if (key !== 'dataDir' && parsed.data[key] !== undefined) values[key] = parsed.data[key];
  }
  return values;
}

function describeIssue(
  issue: z.core.$ZodIssue | undefined,
  merged: RawValues,
  origin: Partial<Record<ConfigKey, Source>>
): string {
  if (!issue) return 'invalid configuration';
  const key = issue.path[0] as ConfigKey | undefined;
  if (!key) return `invalid configuration: ${issue.message}`;
  const source = origin[key];
  const where = source === 'environment' ? envName(key) : (source ?? 'default');
  return `invalid ${key} ${JSON.stringify(merged[key])} (from ${where}): ${issue.message}`;
}
