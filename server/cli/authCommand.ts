import { Argument, type Command } from 'commander';
import { authModeSchema, type AuthMode } from '../settings/settingsSchema.js';
import { recordCliAudit } from './cliAudit.js';
import { applyToRunningGate } from './runningGate.js';
import { SettingsStore } from '../settings/settingsStore.js';
import { addDataDirOption, dataDirFlag, resolveDataDir } from './dataDirOption.js';

const MEANING: Record<AuthMode, string> = {
  off: 'every request passes to ComfyUI without a key (still logged and counted)',
  optional: 'requests without a key pass with the anonymous limits; a wrong key is refused',
  required: 'every request needs a valid key',
};

export function registerAuthCommand(program: Command): void {
  addDataDirOption(program.command('auth'))
    .description('show or set protection: off, optional or required')
    .addArgument(
      new Argument('[mode]', 'the new mode; without it, the current one is printed').choices(authModeSchema.options)
    )
    .option('--json', 'print {"mode": …} as JSON')
    .action(async (mode: AuthMode | undefined, flags: { json?: boolean }, command: Command) => {
      const dataDir = await resolveDataDir(dataDirFlag(command));
      const settings = await SettingsStore.open(dataDir);
      try {
        if (mode === undefined) {
          const current = settings.current.mode;
          if (flags.json) return printMode(current);
          process.stdout.write(`Protection is ${current}: ${MEANING[current]}.\n`);
          return;
        }
        // settings.json is the file a running gate watches, so the change reaches it without a restart.
        const before = settings.current.mode;
        await settings.update({ mode });
        await recordCliAudit(dataDir, { action: 'mode.changed', details: { from: before, to: mode } });
        const applied = await applyToRunningGate(dataDir);
        if (flags.json) {
          printMode(mode);
          // stdout stays one JSON value for scripts; which gate applied it is for the person watching.
          process.stderr.write(applied + '\n');
          return;
        }
        process.stdout.write(`Protection is now ${mode}. ${applied}\n`);
        if (mode === 'off') process.stdout.write(`With protection off, ${MEANING.off}.\n`);
      } finally {
        await settings.close();
      }
    });
}

function printMode(mode: AuthMode): void {
  process.stdout.write(JSON.stringify({ mode }) + '\n');
}
