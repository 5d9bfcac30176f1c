import { Command, CommanderError } from 'commander';
import { registerAuthCommand } from './authCommand.js';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exitCodes.js';
import { registerKeysCommands } from './keysCommands.js';
import { serve } from './serveCommand.js';
import { registerShareCommand } from './shareCommand.js';
import { registerStatusCommand } from './statusCommand.js';
import { GATE_VERSION } from '../runtime/version.js';

function buildProgram(): Command {
  const program = new Command('comfygate')
    .description('An authenticating gate in front of ComfyUI')
    .version(GATE_VERSION, '--version', 'print the version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('serve')
    .description('start the gate in front of ComfyUI')
    .option(
      '--upstream <url>',
      'ComfyUI URL (default: found on 127.0.0.1:8188, then :8000); repeat it for several backends',
      (url: string, previous: string[] | undefined) => [...(previous ?? []), url]
    )
    .option('--host <host>', 'address to listen on (default 127.0.0.1; 0.0.0.0 shares on the LAN)')
    .option('--port <port>', 'port to listen on (default 8189)')
    .option('--data-dir <dir>', 'folder for keys, settings, usage and logs (or COMFYGATE_DATA_DIR)')
    .option('--auth <mode>', 'protection: off, optional or required (kept in settings.json)')
    .option('--allow-unprotected', 'confirm listening on a network address with protection off')
    .option('--https', 'serve HTTPS with a self-signed certificate the gate makes and renews')
    .option('--tls-cert <file>', 'serve HTTPS with your own certificate (PEM), with --tls-key')
    .option('--tls-key <file>', 'the private key (PEM) of --tls-cert')
    .option(
      '--redis <url>',
      'share keys, sessions and limits with other gates through this Redis (or COMFYGATE_REDIS_URL)'
    )
    .action(serve);

  registerKeysCommands(program);
  registerAuthCommand(program);
  registerShareCommand(program);
  registerStatusCommand(program);

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version output are successes; every other commander error is a usage error.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof CliError) {
      process.stderr.write(`comfygate: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`comfygate: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  }
}
