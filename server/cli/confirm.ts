import { createInterface } from 'node:readline/promises';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './exitCodes.js';

/**
 * Asks before an action that cannot be undone. `--yes` skips the question; without a terminal to ask on
 * (a script, a pipe) the action is refused, so no script deletes by accident. The question goes to stderr
 * to keep stdout for the command's output (--json).
 */
export async function confirmOrRefuse(question: string, refusal: string, yes: boolean | undefined): Promise<void> {
  if (yes === true) return;
  if (process.stdin.isTTY !== true) {
    throw new CliError(`${refusal}: there is no terminal to confirm on, so add --yes`, EXIT_USAGE);
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${question} [y/N] `);
    if (!/^\s*y(es)?\s*$/i.test(answer)) throw new CliError(`${refusal}: not confirmed, nothing changed`, EXIT_FAILURE);
  } finally {
    prompt.close();
  }
}
