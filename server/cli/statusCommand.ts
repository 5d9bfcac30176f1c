import type { Command } from 'commander';
import { addDataDirOption, dataDirFlag, resolveDataDir } from './dataDirOption.js';
import { findRunningGate } from './runningGate.js';

interface StatusFlags {
  json?: boolean;
}

/** `comfygate status [--json]`: the running gate for this data dir, or that none runs. */
export function registerStatusCommand(program: Command): void {
  addDataDirOption(program.command('status'))
    .description('show the gate running for this data dir, or that none runs')
    .option('--json', 'print one JSON object')
    .action(async (flags: StatusFlags, command: Command) => {
      const dataDir = await resolveDataDir(dataDirFlag(command), process.env, { create: false });
      const found = await findRunningGate(dataDir);
      if (flags.json) {
        const report =
          found.state === 'none'
            ? { running: false, dataDir }
            : {
                running: found.state === 'running',
                stale: found.state === 'stale',
                dataDir,
                url: found.record.url,
                shareUrl: found.record.shareUrl,
                pid: found.record.pid,
                version: found.record.version,
                startedAt: found.record.startedAt,
              };
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        return;
      }
      if (found.state === 'none') {
        process.stdout.write(`No gate is running for ${dataDir}.\n`);
        return;
      }
      const { record } = found;
      if (found.state === 'stale') {
        process.stdout.write(
          `No gate is running for ${dataDir}: the last one (pid ${record.pid}, started ${record.startedAt}) ended without cleaning up.\n`
        );
        return;
      }
      const rows: Array<[string, string]> = [
        ['Gate', record.url],
        ['Teammates open', record.shareUrl],
        ['Dashboard', `${record.url}/gate/`],
        ['PID', String(record.pid)],
        ['Version', record.version],
        ['Started', record.startedAt],
        ['Data dir', dataDir],
      ];
      const width = Math.max(...rows.map(([label]) => label.length));
      for (const [label, value] of rows) process.stdout.write(`${label.padEnd(width)}  ${value}\n`);
    });
}
