import type { Command } from 'commander';
import { addSettingOptions, FILTER_SETTINGS, MASK_SETTINGS, REPLICA_SETTINGS, SOURCE_SETTINGS } from '../options.js';
import type { ProgramContext } from '../context.js';
import type { ReplayOpts } from '../actions/replay.js';

export function registerReplayCommand(program: Command, ctx: ProgramContext): void {
  const replay = program
    .command('replay')
    .argument('<file...>', 'binlog files, in the order the source wrote them')
    .description(
      'apply binlog files from disk (archived binlogs, `mysqlbinlog --raw` backups) exactly as `start` applies the stream: ' +
        'same filters, rewrites, masks and exactly-once checkpoint; what the replica has is passed over',
    )
    .option('--stop-position <file:pos>', 'stop before the first event at or after POS in FILE (its transaction left out whole)')
    .option('--stop-datetime <time>', "stop before the first event written at or after TIME ('2026-12-07 14:00:00' is local time, or ISO 8601 with a zone)")
    .option('--stop-gtid <gtid>', 'stop after the transaction with this GTID (MariaDB 0-1-42, MySQL uuid:42 or uuid:tag:42)')
    .addHelpText(
      'after',
      [
        '',
        'Files are checked before anything is applied: each must be a binlog, each must rotate to the next one given, and only',
        'the last may end early (it is then replayed to its last complete transaction, with a warning). Replaying files twice',
        'changes nothing; `start` continues live from where a replay ended. --source is optional: with it, masks are checked',
        "against the source's tables (--mask needs it) and a CREATE TABLE ... LIKE can read its table there. See docs/replay.md.",
        '',
        'Example:',
        '  binlog-sync replay --replica mysql://binlog_sync@127.0.0.1 --databases themepark_tracker \\',
        "    --stop-datetime '2026-12-07 14:00:00' /backup/mysql-bin.000041 /backup/mysql-bin.000042",
      ].join('\n'),
    );
  addSettingOptions(replay, [...SOURCE_SETTINGS, ...REPLICA_SETTINGS, ...FILTER_SETTINGS, ...MASK_SETTINGS, 'definer']);
  // (Imported when it runs, as lazyAction does; the files come first.)
  replay.action(async (files: string[], opts: ReplayOpts, command: Command) => (await import('../actions/replay.js')).replayAction(files, opts, command, ctx));
}
