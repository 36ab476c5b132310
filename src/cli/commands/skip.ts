import type { Command } from 'commander';
import { addSettingOptions, NATS_SETTINGS, REPLICA_SETTINGS, SOURCE_SETTINGS } from '../options.js';
import type { ProgramContext } from '../context.js';
import { lazyAction } from '../lazy-action.js';

export function registerSkipCommand(program: Command, ctx: ProgramContext): void {
  const skip = program
    .command('skip')
    .description('skip the source transaction that `start` stopped on (recorded in the history with its GTID and position)')
    .addHelpText(
      'after',
      [
        '',
        'Exits 1 when no error is recorded. The skipped transaction is not applied: repair the replica by hand if it matters,',
        'or run `binlog-sync snapshot` to start over.',
        '',
        'Example:',
        '  binlog-sync skip --source mysql://repl_user@prod:3306 --replica mysql://binlog_sync@127.0.0.1 && binlog-sync start ...',
        "  binlog-sync skip --from nats://nats.internal:4222/THEMEPARK --replica mysql://binlog_sync@127.0.0.1   (a replica fed by a relay)",
      ].join('\n'),
    );
  addSettingOptions(skip, [...SOURCE_SETTINGS, ...REPLICA_SETTINGS, 'from', ...NATS_SETTINGS, 'server-id']);
  skip.action(lazyAction(ctx, async () => (await import('../actions/skip.js')).skipAction));
}
