import { fileURLToPath } from 'node:url';
import { importProblems } from './importRules.js';

// Run by `npm run lint`: the rules the architecture test checks, so a build that breaks them fails before tests run.
const problems = importProblems(fileURLToPath(new URL('../../', import.meta.url)));
if (problems.length > 0) {
  console.error(`Import rules (docs/ARCHITECTURE.md) broken:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  process.exitCode = 1;
}
