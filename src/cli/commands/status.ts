import type { Command } from 'commander';
import { addSettingOptions, SOURCE_SETTINGS } from '../options.js';
import type { ProgramContext } from '../context.js';
import { lazyAction } from '../lazy-action.js';

export function registerStatusCommand(program: Command, ctx: ProgramContext): void {
  const status = program
    .command('status')
    .description('health of the replication: HEALTHY (exit 0), LAGGING (1), STOPPED (2) or UNKNOWN (3)')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      [
        '',
        'Reads the state file (kept fresh every second by a running `start`) and, with --source, the source.',
        '',
        'Examples:',
        '  binlog-sync status --json',
        '  binlog-sync status --source mysql://repl_user@prod:3306 || alert "replica unhealthy"',
      ].join('\n'),
    );
  addSettingOptions(status, [...SOURCE_SETTINGS, 'lag-threshold']);
  status.action(lazyAction(ctx, async () => (await import('../actions/status.js')).statusAction));
}
