import type { Command } from 'commander';
import { addSettingOptions, FILTER_SETTINGS, MASK_SETTINGS, REPLICA_SETTINGS, SOURCE_SETTINGS } from '../options.js';
import type { ProgramContext } from '../context.js';
import { lazyAction } from '../lazy-action.js';

export function registerSnapshotCommand(program: Command, ctx: ProgramContext): void {
  const snapshot = program
    .command('snapshot')
    .description('copy the selected databases from source to replica at one exact binlog position, and record it for `start`')
    .option('--drop-existing', 'replace target tables that already hold rows')
    .addHelpText(
      'after',
      [
        '',
        'No lock on the source (MariaDB: a consistent-snapshot transaction; MySQL: performance_schema.log_status, BACKUP_ADMIN).',
        'An interrupted snapshot records nothing; running it again starts over.',
        'With --mask, masked columns are copied masked and the replica records the rules and key fingerprint; `start` then takes only those (docs/masking.md).',
        '',
        'Example:',
        '  binlog-sync snapshot --source mysql://repl_user@prod:3306 --replica mysql://binlog_sync@127.0.0.1 --databases themepark_tracker',
      ].join('\n'),
    );
  addSettingOptions(snapshot, [...SOURCE_SETTINGS, ...REPLICA_SETTINGS, ...FILTER_SETTINGS, ...MASK_SETTINGS, 'definer']);
  snapshot.action(lazyAction(ctx, async () => (await import('../actions/snapshot.js')).snapshotAction));
}
