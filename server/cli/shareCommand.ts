import { Argument, type Command } from 'commander';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../config/loadConfig.js';
import { listenHostFor, unprotectedRefusal } from '../net/sharingChoice.js';
import { SettingsStore } from '../settings/settingsStore.js';
import { recordCliAudit } from './cliAudit.js';
import { addDataDirOption, dataDirFlag, resolveDataDir } from './dataDirOption.js';
import { CliError, EXIT_USAGE } from './exitCodes.js';
import { controlRequest } from './gateControl.js';
import { findRunningGate } from './runningGate.js';

const answerSchema = z.object({
  network: z.boolean(),
  share: z.object({ url: z.string(), urls: z.array(z.string()), note: z.string().nullable() }),
});
const refusalSchema = z.object({ error: z.object({ message: z.string() }) });

const MEANING = {
  on: 'My network: teammates on your network can connect (with a key)',
  off: 'This computer only: nobody else can connect',
} as const;

/** `comfygate share on|off`: the live sharing switch; saved for the next start, applied by a running gate at once. */
export function registerShareCommand(program: Command): void {
  addDataDirOption(program.command('share'))
    .description('share on your network (on) or keep the gate to this computer (off); live, and kept for next start')
    .addArgument(new Argument('<on|off>', 'on: listen on the network; off: this computer only').choices(['on', 'off']))
    .action(async (choice: 'on' | 'off', _flags: unknown, command: Command) => {
      const network = choice === 'on';
      const dataDir = await resolveDataDir(dataDirFlag(command));
      const found = await findRunningGate(dataDir);
      if (found.state === 'running') {
        const { record } = found;
        let response: Response;
        try {
          response = await controlRequest(record, '/sharing', { method: 'PUT', json: { network } });
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          throw new CliError(`could not reach the gate at ${record.url} (pid ${record.pid}): ${reason}`);
        }
        const body: unknown = await response.json().catch(() => undefined);
        if (!response.ok) {
          const refusal = refusalSchema.safeParse(body);
          throw new CliError(
            refusal.success ? refusal.data.error.message : `the gate at ${record.url} answered ${response.status}`
          );
        }
        const answer = answerSchema.parse(body);
        process.stdout.write(
          `Sharing: ${MEANING[choice]}. Applied by the gate (pid ${record.pid}) and kept for next start.\n`
        );
        process.stdout.write(`Share link: ${answer.share.urls.join('  ·  ')}\n`);
        if (answer.share.note !== null) process.stdout.write(`${answer.share.note}\n`);
        return;
      }
      const config = await loadConfig({ flags: { dataDir } }).catch((error: unknown) => {
        if (error instanceof ConfigError) throw new CliError(error.message, EXIT_USAGE);
        throw error;
      });
      const host = listenHostFor(network, config.networkHost);
      const settings = await SettingsStore.open(dataDir);
      try {
        const refusal = unprotectedRefusal(settings.current.mode, host);
        if (refusal !== null) throw new CliError(`${refusal} (comfygate auth required)`);
        await settings.updateStartup({ host });
      } finally {
        await settings.close();
      }
      await recordCliAudit(dataDir, { action: 'sharing.changed', details: { network, host } });
      process.stdout.write(
        `Sharing: ${MEANING[choice]}. No gate is running for ${dataDir}; the next start listens on ${host}.\n`
      );
    });
}
