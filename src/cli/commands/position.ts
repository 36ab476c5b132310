import { Option, type Command } from 'commander';
import { addSettingOptions, NATS_SETTINGS, REPLICA_SETTINGS, SOURCE_SETTINGS } from '../options.js';
import type { ProgramContext } from '../context.js';
import { lazyAction } from '../lazy-action.js';

export function registerPositionCommand(program: Command, ctx: ProgramContext): void {
  const position = program
    .command('position')
    .description('show, set or list the replication position')
    .addHelpText('after', '\nExamples:\n  binlog-sync position show --json\n  binlog-sync position set --current --source mysql://repl_user@prod:3306 --replica mysql://binlog_sync@127.0.0.1\n  binlog-sync position history --limit 20');

  position
    .command('show')
    .description('print the stored position: binlog file, offset, GTID and when it was applied')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExample:\n  binlog-sync position show --state /var/lib/binlog-sync/state.sqlite --json')
    .action(lazyAction(ctx, async () => (await import('../actions/position.js')).positionShowAction));

  const set = position
    .command('set')
    .description('set where `start` continues (refused while `start` runs on this state file)')
    .option('--file <file>', 'binlog file name, with --pos')
    .option('--pos <offset>', 'offset in --file (a transaction boundary, as SHOW MASTER STATUS prints)')
    .option('--gtid <gtid>', 'GTID position to continue after (MariaDB: domain-server-sequence[,...])')
    .addOption(new Option('--current', "the source's current position (skip everything before it); with --from, the end of the relay stream's last message"))
    .addHelpText(
      'after',
      [
        '',
        'The position is written to the replica (binlog_sync.positions) and to the state file; without --replica, to the',
        "state file alone (a relay's state file: `binlog-sync relay` starts there when its stream is empty).",
        '',
        'Examples:',
        '  binlog-sync position set --current --source mysql://repl_user@prod:3306 --replica mysql://binlog_sync@127.0.0.1',
        '  binlog-sync position set --file mysql-bin.000012 --pos 5531 --replica mysql://binlog_sync@127.0.0.1',
        '  binlog-sync position set --current --from nats://nats.internal:4222/THEMEPARK --replica mysql://binlog_sync@127.0.0.1',
        '  binlog-sync position set --current --source mysql://repl_user@prod:3306 --state relay.sqlite',
      ].join('\n'),
    );
  addSettingOptions(set, [...SOURCE_SETTINGS, ...REPLICA_SETTINGS, 'from', ...NATS_SETTINGS]);
  set.action(lazyAction(ctx, async () => (await import('../actions/position.js')).positionSetAction));

  position
    .command('history')
    .description('past positions with times: starts, stops, sets, skips, errors')
    .option('--limit <n>', 'how many entries, newest first', '50')
    .option('--json', 'print one JSON array')
    .addHelpText('after', '\nExample:\n  binlog-sync position history --limit 20')
    .action(lazyAction(ctx, async () => (await import('../actions/position.js')).positionHistoryAction));
}
