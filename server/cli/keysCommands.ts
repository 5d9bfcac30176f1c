import { networkInterfaces } from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../config/loadConfig.js';
import { GateError } from '../errors.js';
import { parseExpiry, roleSchema, type PublicKeyRecord, type Role } from '../keys/keySchema.js';
import { applyKeyDefaults, presetSchema, type Preset } from '../keys/keyPresets.js';
import type { CreateKeyInput, UpdateKeyInput } from '../keys/keySchema.js';
import { KeyNotFoundError, KeyStore } from '../keys/keyStore.js';
import { shareAddress } from '../net/shareAddress.js';
import { SettingsStore } from '../settings/settingsStore.js';
import { recordCliAudit } from './cliAudit.js';
import { applyToRunningGate, findRunningGate } from './runningGate.js';
import { dataDirFlag, resolveDataDir } from './dataDirOption.js';
import { addStateOptions, appliedThroughRedis, openSharedState } from './redisOption.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './exitCodes.js';
import { confirmOrRefuse } from './confirm.js';
import { findKey } from './keyLookup.js';
import { textTable } from './textTable.js';
import { addLimitOptions, formatLimits, LIMIT_FLAGS, limitsFromFlags, type LimitFlagValues } from './limitFlags.js';

interface OutputFlags {
  json?: boolean;
}

interface CreateFlags extends OutputFlags, LimitFlagValues {
  name: string;
  role?: Role;
  expires?: string;
  note?: string;
  preset?: Preset;
}

interface UpdateFlags extends OutputFlags, LimitFlagValues {
  name?: string;
  role?: Role;
  expires?: string;
  /** false when --no-expiry was given. */
  expiry?: boolean;
  note?: string;
}

interface DeleteFlags extends OutputFlags {
  yes?: boolean;
}

const KEY_ARGUMENT = 'the key id (key_…) or its name, as shown by keys list';

const DEFAULT_GATE_URL = 'http://127.0.0.1:8189';

export function registerKeysCommands(program: Command): void {
  const keys = addStateOptions(
    program.command('keys').description('create, list, revoke, rotate, sign out and delete API keys')
  );

  const create = addStateOptions(keys.command('create'))
    .description('create a key; it is printed once and cannot be shown again')
    .requiredOption('--name <name>', 'who or what the key is for')
    .addOption(new Option('--role <role>', 'what the key may do (default: creator)').choices(roleSchema.options))
    .addOption(
      new Option(
        '--preset <preset>',
        'guest: a viewer that may also generate, within tight limits, for 7 days'
      ).choices(presetSchema.options)
    );
  addLimitOptions(create, 'create')
    .option('--expires <when>', 'a duration such as 30d, 12h, 2w, or a date such as 2026-01-31', futureExpiry)
    .option('--note <text>', 'a note for yourself')
    .option('--json', 'print the key and its record as one JSON object')
    .action((flags: CreateFlags, command: Command) =>
      withKeyStore(command, async (store, dataDir, applyChange) => {
        const given = {
          preset: flags.preset,
          name: flags.name,
          role: flags.role,
          note: flags.note,
          limits: limitsFromFlags(flags),
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
        const applied = await applyChange();
        if (flags.json) return printJsonAndNote(withKey(key, record), applied);
        print(`Created key "${record.name}" (${record.id}), role ${record.role}. ${applied}`);
        print(await secretBlock(key, record, dataDir));
      })
    );

  addStateOptions(keys.command('list'))
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

  addStateOptions(keys.command('show'))
    .description('show one key')
    .argument('<key>', KEY_ARGUMENT)
    .option('--json', 'print the key record as JSON')
    .action((reference: string, flags: OutputFlags, command: Command) =>
      withKeyStore(command, (store) => {
        const record = findKey(store, reference);
        if (flags.json) return printJson(record);
        print(describeKey(record, Date.now()));
      })
    );

  const update = addStateOptions(keys.command('update'))
    .description('change the name, role, limits, expiry or note of a key; what is not given stays')
    .argument('<key>', KEY_ARGUMENT)
    .option('--name <name>', 'a new name')
    .addOption(new Option('--role <role>', 'a new role').choices(roleSchema.options));
  addLimitOptions(update, 'update')
    .addOption(
      new Option('--expires <when>', 'a duration such as 30d, 12h, 2w, or a date such as 2026-01-31')
        .argParser(futureExpiry)
        .conflicts('expiry')
    )
    .option('--no-expiry', 'the key never expires')
    .option('--note <text>', 'a note for yourself ("" clears it)')
    .option('--json', 'print the updated key record as JSON')
    .action((reference: string, flags: UpdateFlags, command: Command) => {
      const patch = updatePatch(flags);
      return withKeyStore(command, async (store, dataDir, applyChange) => {
        const found = findKey(store, reference);
        // A guest's own scopes would outlive a new role; the role's scopes take over, as in the dashboard.
        const scopes =
          patch.role !== undefined && patch.role !== found.role && found.scopes !== null ? null : undefined;
        const record = await store.update(found.id, scopes === null ? { ...patch, scopes } : patch);
        const fields = Object.keys(patch).map((field) => (field === 'expiresAt' ? 'expiry' : field));
        await recordCliAudit(dataDir, { action: 'key.updated', target: record.id, details: { fields } });
        const applied = await applyChange();
        if (flags.json) return printJsonAndNote(record, applied);
        print(`Updated key "${record.name}" (${record.id}): ${fields.join(', ')}. ${applied}`);
        print(describeKey(record, Date.now()));
      });
    });

  addStateOptions(keys.command('revoke'))
    .description('deactivate a key at once (activate brings it back)')
    .argument('<key>', KEY_ARGUMENT)
    .option('--json', 'print the key record as JSON')
    .action((reference: string, flags: OutputFlags, command: Command) =>
      withKeyStore(command, async (store, dataDir, applyChange) => {
        const record = await store.setActive(findKey(store, reference).id, false);
        await recordCliAudit(dataDir, { action: 'key.deactivated', target: record.id });
        const applied = await applyChange();
        if (flags.json) return printJsonAndNote(record, applied);
        print(`Revoked key "${record.name}" (${record.id}): it and its sessions stop working. ${applied}`);
      })
    );

  addStateOptions(keys.command('activate'))
    .description('re-activate a revoked key')
    .argument('<key>', KEY_ARGUMENT)
    .option('--json', 'print the key record as JSON')
    .action((reference: string, flags: OutputFlags, command: Command) =>
      withKeyStore(command, async (store, dataDir, applyChange) => {
        const record = await store.setActive(findKey(store, reference).id, true);
        await recordCliAudit(dataDir, { action: 'key.activated', target: record.id });
        const applied = await applyChange();
        if (flags.json) return printJsonAndNote(record, applied);
        const expired = isExpired(record, Date.now())
          ? `, but it has expired: give it a new expiry (comfygate keys update ${record.id} --expires 30d)`
          : '';
        print(`Activated key "${record.name}" (${record.id})${expired}. ${applied}`);
      })
    );

  addStateOptions(keys.command('sign-out'))
    .description('end every browser session and access token of a key, also after restarts; the key keeps working')
    .argument('<key>', KEY_ARGUMENT)
    .option('--json', 'print the key record as JSON')
    .action((reference: string, flags: OutputFlags, command: Command) =>
      withKeyStore(command, async (store, dataDir, applyChange) => {
        const record = await store.endSessions(findKey(store, reference).id);
        await recordCliAudit(dataDir, { action: 'key.sessions_ended', target: record.id });
        const applied = await applyChange();
        if (flags.json) return printJsonAndNote(record, applied);
        print(`Signed key "${record.name}" (${record.id}) out everywhere. ${applied}`);
      })
    );

  addStateOptions(keys.command('rotate'))
    .description('replace the secret of a key: same id, limits and history; the old secret stops working')
    .argument('<key>', KEY_ARGUMENT)
    .option('--json', 'print the new key and its record as one JSON object')
    .action((reference: string, flags: OutputFlags, command: Command) =>
      withKeyStore(command, async (store, dataDir, applyChange) => {
        const { key, record } = await store.rotate(findKey(store, reference).id);
        await recordCliAudit(dataDir, { action: 'key.rotated', target: record.id });
        const applied = await applyChange();
        if (flags.json) return printJsonAndNote(withKey(key, record), applied);
        print(`Rotated key "${record.name}" (${record.id}); the old key no longer works. ${applied}`);
        print(await secretBlock(key, record, dataDir));
      })
    );

  addStateOptions(keys.command('delete'))
    .description('delete a key for good (revoke keeps it and its history); asks first unless --yes')
    .argument('<key>', KEY_ARGUMENT)
    .option('--yes', 'do not ask for confirmation (needed without a terminal)')
    .option('--json', 'print the deleted key record as JSON')
    .action((reference: string, flags: DeleteFlags, command: Command) =>
      withKeyStore(command, async (store, dataDir, applyChange) => {
        const found = findKey(store, reference);
        await confirmOrRefuse(
          `Delete key "${found.name}" (${found.id}) for good? It stops working at once.`,
          `key "${found.name}" (${found.id}) was not deleted`,
          flags.yes
        );
        const record = await store.delete(found.id);
        await recordCliAudit(dataDir, { action: 'key.deleted', target: record.id });
        const applied = await applyChange();
        if (flags.json) return printJsonAndNote(record, applied);
        print(`Deleted key "${record.name}" (${record.id}). ${applied}`);
      })
    );
}

/** Opens the store for one command and always closes it: its file watcher would otherwise hold the process open. */
async function withKeyStore(
  command: Command,
  run: (store: KeyStore, dataDir: string, applied: () => Promise<string>) => unknown
): Promise<void> {
  const dataDir = await resolveDataDir(dataDirFlag(command));
  const shared = await openSharedState(command, dataDir);
  const store = await KeyStore.open(dataDir, shared).catch(async (error: unknown) => {
    await shared?.close();
    throw error;
  });
  const applied = (): Promise<string> => (shared ? appliedThroughRedis(shared) : applyToRunningGate(dataDir));
  try {
    await run(store, dataDir, applied);
  } catch (error) {
    // The key went away between finding it and changing it (another command or the dashboard deleted it).
    if (error instanceof KeyNotFoundError) throw new CliError(`no key with id ${error.id}`, EXIT_FAILURE);
    // The store validates every field again; what it refuses is the caller's input, so it is a usage error.
    if (error instanceof GateError && error.code === 'bad_request') throw new CliError(error.message, EXIT_USAGE);
    throw error;
  } finally {
    await store.close();
    await shared?.close();
  }
}

const UPDATE_FLAGS = [
  '--name',
  '--role',
  ...LIMIT_FLAGS.map((limit) => limit.flag),
  '--expires',
  '--no-expiry',
  '--note',
].join(', ');

/** The fields the operator gave, as the store's patch; giving none is a usage error, not a silent no-op. */
function updatePatch(flags: UpdateFlags): UpdateKeyInput {
  const limits = limitsFromFlags(flags);
  const patch: UpdateKeyInput = definedOnly({
    name: flags.name,
    role: flags.role,
    note: flags.note,
    limits: Object.keys(limits).length > 0 ? limits : undefined,
    expiresAt: flags.expiry === false ? null : flags.expires,
  });
  if (Object.keys(patch).length === 0)
    throw new CliError(`nothing to change: give at least one of ${UPDATE_FLAGS}`, EXIT_USAGE);
  return patch;
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

/** stdout stays one JSON value for scripts; which gate applied the change is for the person watching, on stderr. */
function printJsonAndNote(value: unknown, applied: string): void {
  printJson(value);
  process.stderr.write(applied + '\n');
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
  return textTable([
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
  ]);
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
  if (record.scopes !== null) fields.splice(3, 0, ['may', record.scopes.join(', ')]);
  if (record.note !== '') fields.push(['note', record.note]);
  return textTable(fields);
}

/** Flags left out stay out, so presets and the operator's default limits can fill them. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
