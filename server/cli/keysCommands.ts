import { networkInterfaces } from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../config/loadConfig.js';
import { GateError } from '../errors.js';
import { parseExpiry, roleSchema, type Limits, type PublicKeyRecord, type Role } from '../keys/keySchema.js';
import { applyKeyDefaults, presetSchema, type Preset } from '../keys/keyPresets.js';
import type { CreateKeyInput } from '../keys/keySchema.js';
import { KeyNotFoundError, KeyStore } from '../keys/keyStore.js';
import { shareAddress } from '../net/shareAddress.js';
import { SettingsStore } from '../settings/settingsStore.js';
import { recordCliAudit } from './cliAudit.js';
import { applyToRunningGate, findRunningGate } from './runningGate.js';
import { addDataDirOption, dataDirFlag, resolveDataDir } from './dataDirOption.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './exitCodes.js';

interface OutputFlags {
  json?: boolean;
}

interface CreateFlags extends OutputFlags {
  name: string;
  role?: Role;
  perMinute?: number;
  perHour?: number;
  promptsPerDay?: number;
  maxQueued?: number;
  expires?: string;
  note?: string;
  preset?: Preset;
}

const DEFAULT_GATE_URL = 'http://127.0.0.1:8189';

export function registerKeysCommands(program: Command): void {
  const keys = addDataDirOption(
    program.command('keys').description('create, list, revoke, rotate, sign out and delete API keys')
  );

  addDataDirOption(keys.command('create'))
    .description('create a key; it is printed once and cannot be shown again')
    .requiredOption('--name <name>', 'who or what the key is for')
    .addOption(new Option('--role <role>', 'what the key may do (default: creator)').choices(roleSchema.options))
    .addOption(
      new Option('--preset <preset>', 'guest: a viewer that may generate, tight limits, 7 days').choices(
        presetSchema.options
      )
    )
    .option('--per-minute <n>', 'requests per minute (default: unlimited)', positiveInteger)
    .option('--per-hour <n>', 'requests per hour (default: unlimited)', positiveInteger)
    .option('--prompts-per-day <n>', 'prompts queued per day (default: unlimited)', positiveInteger)
    .option('--max-queued <n>', 'prompts waiting in the queue at once (default: unlimited)', positiveInteger)
    .option('--expires <when>', 'a duration such as 30d, 12h, 2w, or a date such as 2026-01-31', futureExpiry)
    .option('--note <text>', 'a note for yourself')
    .option('--json', 'print the key and its record as one JSON object')
    .action((flags: CreateFlags, command: Command) =>
      withKeyStore(command, async (store, dataDir) => {
        const given = {
          preset: flags.preset,
          name: flags.name,
          role: flags.role,
          note: flags.note,
          limits: definedOnly({
            perMinute: flags.perMinute,
            perHour: flags.perHour,
            promptsPerDay: flags.promptsPerDay,
            maxQueued: flags.maxQueued,
          }),
          expiresAt: flags.expires,
        };
        const settings = await SettingsStore.open(dataDir);
        const defaultLimits = settings.current.defaultLimits;
        await settings.close();
        const input = applyKeyDefaults(definedOnly(given), defaultLimits) as CreateKeyInput;
        const { key, record } = await store.create(input);
        await recordCliAudit(dataDir, {
          action: 'key.created',
          target: record.id,
          details: { name: record.name, role: record.role },
        });
        const applied = await applyToRunningGate(dataDir);
        if (flags.json) return printJson(withKey(key, record));
        print(`Created key "${record.name}" (${record.id}), role ${record.role}. ${applied}`);
        print(await secretBlock(key, record, dataDir));
      })
    );

  addDataDirOption(keys.command('list'))
    .description('list every key (never the keys themselves)')
    .option('--json', 'print a JSON array of key records')
    .action((flags: OutputFlags, command: Command) =>
      withKeyStore(command, (store) => {
        const records = store.list();
        if (flags.json) return printJson(records);
        if (records.length === 0) return print('No keys yet. Create one with: comfygate keys create --name NAME');
        print(keyTable(records, Date.now()));
      })
    );

  addDataDirOption(keys.command('show'))
    .description('show one key')
    .argument('<id>', 'the key id (key_…), as shown by keys list')
    .option('--json', 'print the key record as JSON')
    .action((id: string, flags: OutputFlags, command: Command) =>
      withKeyStore(command, (store) => {
        const record = store.get(id);
        if (record === undefined) throw new KeyNotFoundError(id);
        if (flags.json) return printJson(record);
        print(describeKey(record, Date.now()));
      })
    );

  addDataDirOption(keys.command('revoke'))
    .description('deactivate a key at once (activate brings it back)')
    .argument('<id>', 'the key id')
    .action((id: string, _flags: unknown, command: Command) =>
      withKeyStore(command, async (store, dataDir) => {
        const record = await store.setActive(id, false);
        await recordCliAudit(dataDir, { action: 'key.deactivated', target: record.id });
        print(
          `Revoked key "${record.name}" (${record.id}): it and its sessions stop working. ${await applyToRunningGate(dataDir)}`
        );
      })
    );

  addDataDirOption(keys.command('activate'))
    .description('re-activate a revoked key')
    .argument('<id>', 'the key id')
    .action((id: string, _flags: unknown, command: Command) =>
      withKeyStore(command, async (store, dataDir) => {
        const record = await store.setActive(id, true);
        await recordCliAudit(dataDir, { action: 'key.activated', target: record.id });
        const expired = isExpired(record, Date.now()) ? ', but it has expired: set a new expiry in the dashboard' : '';
        print(`Activated key "${record.name}" (${record.id})${expired}. ${await applyToRunningGate(dataDir)}`);
      })
    );

  addDataDirOption(keys.command('sign-out'))
    .description('end every browser session and access token of a key, also after restarts; the key keeps working')
    .argument('<id>', 'the key id')
    .action((id: string, _flags: unknown, command: Command) =>
      withKeyStore(command, async (store, dataDir) => {
        const record = await store.endSessions(id);
        await recordCliAudit(dataDir, { action: 'key.sessions_ended', target: record.id });
        print(
          `Signed key "${record.name}" (${record.id}) out everywhere; a running gate ends its sessions within a second.`
        );
      })
    );

  addDataDirOption(keys.command('rotate'))
    .description('replace the secret of a key: same id, limits and history; the old secret stops working')
    .argument('<id>', 'the key id')
    .option('--json', 'print the new key and its record as one JSON object')
    .action((id: string, flags: OutputFlags, command: Command) =>
      withKeyStore(command, async (store, dataDir) => {
        const { key, record } = await store.rotate(id);
        await recordCliAudit(dataDir, { action: 'key.rotated', target: record.id });
        const applied = await applyToRunningGate(dataDir);
        if (flags.json) return printJson(withKey(key, record));
        print(`Rotated key "${record.name}" (${record.id}); the old key no longer works. ${applied}`);
        print(await secretBlock(key, record, dataDir));
      })
    );

  addDataDirOption(keys.command('delete'))
    .description('delete a key for good (revoke keeps it and its history)')
    .argument('<id>', 'the key id')
    .action((id: string, _flags: unknown, command: Command) =>
      withKeyStore(command, async (store, dataDir) => {
        const record = await store.delete(id);
        await recordCliAudit(dataDir, { action: 'key.deleted', target: record.id });
        print(`Deleted key "${record.name}" (${record.id}). ${await applyToRunningGate(dataDir)}`);
      })
    );
}

/** Opens the store for one command and always closes it: its file watcher would otherwise hold the process open. */
async function withKeyStore(command: Command, run: (store: KeyStore, dataDir: string) => unknown): Promise<void> {
  const dataDir = await resolveDataDir(dataDirFlag(command));
  const store = await KeyStore.open(dataDir);
  try {
    await run(store, dataDir);
  } catch (error) {
    if (error instanceof KeyNotFoundError) throw new CliError(`no key with id ${error.id}`, EXIT_FAILURE);
    // The store validates every field again; what it refuses is the caller's input, so it is a usage error.
    if (error instanceof GateError && error.code === 'bad_request') throw new CliError(error.message, EXIT_USAGE);
    throw error;
  } finally {
    await store.close();
  }
}

function positiveInteger(value: string): number {
  const number = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < 1) {
    throw new InvalidArgumentError('Expected a positive whole number such as 60.');
  }
  return number;
}

function futureExpiry(value: string): string {
  let iso: string;
  try {
    iso = parseExpiry(value, new Date());
  } catch (error) {
    // parseExpiry names the value itself; commander already does, so only the explanation is kept.
    throw new InvalidArgumentError(capitalize((error as Error).message.replace(/^invalid expiry "[^"]*": /, '')) + '.');
  }
  if (Date.parse(iso) <= Date.now()) throw new InvalidArgumentError('Expected a time in the future.');
  return iso;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** `id` first so a human reading the JSON sees what the key is before the secret; same fields as the REST API. */
function withKey(key: string, record: PublicKeyRecord): PublicKeyRecord & { key: string } {
  const { id, ...rest } = record;
  return { id, key, ...rest };
}

function print(text: string): void {
  process.stdout.write(text + '\n');
}

function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

async function secretBlock(key: string, record: PublicKeyRecord, dataDir: string): Promise<string> {
  const url = await gateUrl(dataDir);
  return [
    '',
    key,
    '',
    'This key is shown only once: copy it now. If it is lost, rotate it (comfygate keys rotate ' + record.id + ').',
    '',
    `Limits: ${formatLimits(record.limits)}. Expires: ${formatTime(record.expiresAt)}.`,
    'Use it in a header:',
    `  curl -H "X-API-Key: ${key}" ${url}/prompt`,
    `or open ${url}/ in a browser and paste it on the login page.`,
  ].join('\n');
}

/**
 * Where teammates reach the gate: the running gate's share link (server/net/shareAddress.ts decided
 * it); with none running, the link the configured address and port will give.
 */
async function gateUrl(dataDir: string): Promise<string> {
  const running = await findRunningGate(dataDir);
  if (running.state === 'running') return running.record.shareUrl.replace(/\/$/, '');
  try {
    const config = await loadConfig({ flags: { dataDir } });
    // Port 0 (any free port) says nothing about where a gate will be.
    if (config.port === 0) return DEFAULT_GATE_URL;
    return shareAddress({ host: config.host, port: config.port }, networkInterfaces()).url.replace(/\/$/, '');
  } catch {
    return DEFAULT_GATE_URL;
  }
}

function isExpired(record: PublicKeyRecord, now: number): boolean {
  return record.expiresAt !== null && Date.parse(record.expiresAt) <= now;
}

function keyState(record: PublicKeyRecord, now: number): 'active' | 'revoked' | 'expired' {
  if (!record.active) return 'revoked';
  return isExpired(record, now) ? 'expired' : 'active';
}

function formatLimits(limits: Limits): string {
  const parts = [
    limits.perMinute !== null && `${limits.perMinute}/min`,
    limits.perHour !== null && `${limits.perHour}/hour`,
    limits.promptsPerDay !== null && `${limits.promptsPerDay} prompts/day`,
    limits.maxQueued !== null && `${limits.maxQueued} queued`,
  ].filter((part) => part !== false);
  return parts.length === 0 ? 'unlimited' : parts.join(', ');
}

/** Local time to the minute: what the operator's clock shows; seconds would only add noise to a table. */
function formatTime(iso: string | null): string {
  if (iso === null) return 'never';
  const date = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

function keyTable(records: readonly PublicKeyRecord[], now: number): string {
  const rows = [
    ['ID', 'NAME', 'ROLE', 'STATE', 'HINT', 'LAST USED', 'EXPIRES'],
    ...records.map((record) => [
      record.id,
      record.name,
      record.role,
      keyState(record, now),
      record.hint,
      formatTime(record.lastUsedAt),
      formatTime(record.expiresAt),
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')
    )
    .join('\n');
}

function describeKey(record: PublicKeyRecord, now: number): string {
  const fields: [string, string][] = [
    ['id', record.id],
    ['name', record.name],
    ['role', record.role],
    ['state', keyState(record, now)],
    ['hint', record.hint],
    ['limits', formatLimits(record.limits)],
    ['expires', formatTime(record.expiresAt)],
    ['created', formatTime(record.createdAt)],
    ['rotated', formatTime(record.rotatedAt)],
    ['last used', formatTime(record.lastUsedAt)],
  ];
  if (record.note !== '') fields.push(['note', record.note]);
  return fields.map(([label, value]) => `${label.padEnd(11)}${value}`).join('\n');
}

/** Flags left out stay out, so presets and the operator's default limits can fill them. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
