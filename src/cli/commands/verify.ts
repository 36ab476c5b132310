import type { Command } from 'commander';
import { addSettingOptions, FILTER_SETTINGS, MASK_SETTINGS, REPLICA_SETTINGS, SOURCE_SETTINGS } from '../options.js';
import type { ProgramContext } from '../context.js';
import { lazyAction } from '../lazy-action.js';

export function registerVerifyCommand(program: Command, ctx: ProgramContext): void {
  const verify = program
    .command('verify')
    .description('compare every selected table on source and replica: its definition, and its rows by primary-key chunk checksums; exit 0 identical, 1 otherwise')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      [
        '',
        'Tolerates replication in flight: differing chunks are checked again once the running `start` has caught up.',
        'Definitions are compared as SHOW CREATE TABLE prints them (AUTO_INCREMENT counters aside, --rewrite-db applied);',
        'a table only on the replica is reported as extra.',
        'With --mask (the rules and key the replica was seeded with), masked columns are compared by masking the source the same way.',
        '',
        'Example:',
        '  binlog-sync verify --json --source mysql://repl_user@prod:3306 --replica mysql://binlog_sync@127.0.0.1 --databases themepark_tracker',
      ].join('\n'),
    );
  addSettingOptions(verify, [...SOURCE_SETTINGS, ...REPLICA_SETTINGS, ...FILTER_SETTINGS, ...MASK_SETTINGS]);
  verify.action(lazyAction(ctx, async () => (await import('../actions/verify.js')).verifyAction));
}
