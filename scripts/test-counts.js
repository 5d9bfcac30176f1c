// Prints the one line CI reads ("N passed, M failed") from vitest's JSON report.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-output/vitest.json';
// vitest's exit code: an unhandled error fails the run without failing any test or file.
const exitCode = Number(process.argv[3] ?? 0);
if (!existsSync(file)) {
  console.log('0 passed, 1 failed');
  process.exit(0);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const counted = report.numFailedTests + countFailedSuites(report);
const failed = counted === 0 && exitCode !== 0 ? 1 : counted;
console.log(`${report.numPassedTests} passed, ${failed} failed`);

/**
 * A file can fail with none of its tests failing: it did not load, or a hook (beforeAll/afterAll)
 * threw. vitest exits non-zero for it, so it counts as one failure here too.
 */
function countFailedSuites(r) {
  return (r.testResults ?? []).filter(
    (s) => s.status === 'failed' && !(s.assertionResults ?? []).some((a) => a.status === 'failed')
  ).length;
}
