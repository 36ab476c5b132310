import type { Command } from 'commander';
import { addSettingOptions, FILTER_SETTINGS, MASK_SETTINGS, REPLICA_SETTINGS, SOURCE_SETTINGS } from '../options.js';
import type { ProgramContext } from '../context.js';
import { lazyAction } from '../lazy-action.js';

export function registerCheckCommand(program: Command, ctx: ProgramContext): void {
  const check = program
    .command('check')
    .description('preflight of source and replica: binlog settings, server ids, privileges, retention, read_only, --mask rules and unmasked personal columns; each item with its fix')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      [
        '',
        'Exits 0 when nothing fails (warnings allowed), 1 otherwise.',
        'With --databases, the replicated columns whose names look personal and that no --mask rule covers',
        'are a warning with the ready --mask lines; a --mask rule that cannot be honoured fails.',
        '',
        'Example:',
        '  binlog-sync check --source mysql://repl_user@prod:3306 --replica mysql://binlog_sync@127.0.0.1:3306 --databases themepark_tracker',
      ].join('\n'),
    );
  addSettingOptions(check, [...SOURCE_SETTINGS, ...REPLICA_SETTINGS, ...FILTER_SETTINGS, ...MASK_SETTINGS, 'server-id', 'definer']);
  check.action(lazyAction(ctx, async () => (await import('../actions/check.js')).checkAction));
}
