import type { Command } from 'commander';
import { addSettingOptions, FILTER_SETTINGS, MASK_SETTINGS, NATS_SETTINGS, REPLICA_SETTINGS, SOURCE_SETTINGS } from '../options.js';
import type { ProgramContext } from '../context.js';
import { lazyAction } from '../lazy-action.js';

export function registerStartCommand(program: Command, ctx: ProgramContext): void {
  const start = program
    .command('start')
    .description(
      "stream the source's ROW binlog from the stored position and apply each source transaction to the replica, " +
        'atomically and in commit order, until SIGINT/SIGTERM',
    )
    .addHelpText(
      'after',
      [
        '',
        'The first SIGINT/SIGTERM stops gracefully (within 10 s, position saved, exit 0); a second one forces the exit.',
        'With --mask, rows are masked as they are decoded; the rules and key must be those the replica was seeded with (docs/masking.md).',
        'With --metrics-port N, http://127.0.0.1:N/ is a live status page (state, lag, charts of the last hour, the last error); docs/operations.md.',
        "With --from nats://HOST:PORT/STREAM, the binlog comes from a relay's NATS JetStream stream (`binlog-sync relay`) instead of",
        'the source, with the same checkpoint, filters, masks and status; --source is then optional (masks need it). docs/relay.md.',
        '',
        'Example:',
        '  BINLOG_SYNC_SOURCE_PASSWORD=... binlog-sync start --source mysql://repl_user@prod:3306 \\',
        '    --replica mysql://binlog_sync@127.0.0.1:3306 --databases themepark_tracker',
        '  binlog-sync start --from nats://nats.internal:4222/THEMEPARK --replica mysql://binlog_sync@127.0.0.1:3306 \\',
        '    --databases themepark_tracker',
      ].join('\n'),
    );
  addSettingOptions(start, [...SOURCE_SETTINGS, ...REPLICA_SETTINGS, ...FILTER_SETTINGS, ...MASK_SETTINGS, 'from', ...NATS_SETTINGS, 'definer', 'server-id', 'lag-threshold', 'metrics-port', 'metrics-host']);
  start.action(lazyAction(ctx, async () => (await import('../actions/start.js')).startAction));
}
