import type { Command } from 'commander';
import { addSettingOptions, NATS_SETTINGS, SOURCE_SETTINGS } from '../options.js';
import type { ProgramContext } from '../context.js';
import { lazyAction } from '../lazy-action.js';

export function registerRelayCommand(program: Command, ctx: ProgramContext): void {
  const relay = program
    .command('relay')
    .description(
      "read the source's binlog once and keep each source transaction of the selected databases in a NATS JetStream stream, " +
        'in order and exactly once, until SIGINT/SIGTERM; `start --from` feeds replicas from it',
    )
    .addHelpText(
      'after',
      [
        '',
        "The relay is the only connection to the source: developers and CI run `start --from` on the stream. It creates the",
        'stream when missing (--retention-age, --retention-bytes), and after a crash continues after the stream\'s last message.',
        'Without a stream and a stored position, set one first: `binlog-sync position set --current --source URL --state FILE`.',
        'NATS credentials: user:password in the URL, --nats-password-file, --nats-token-file or --nats-creds; never logged.',
        'With --metrics-port N, http://127.0.0.1:N/ is a live status page (state, lag behind the source, what is published,',
        'charts of the last hour, the last error), beside /metrics, /healthz and /status.json.',
        'See docs/relay.md.',
        '',
        'Example:',
        '  BINLOG_SYNC_SOURCE_PASSWORD=... binlog-sync relay --source mysql://repl_user@prod:3306 \\',
        '    --databases themepark_tracker --to nats://nats1:4222,nats2:4222/THEMEPARK --retention-age 14d --state relay.sqlite \\',
        '    --metrics-port 9188',
      ].join('\n'),
    );
  addSettingOptions(relay, [...SOURCE_SETTINGS, 'databases', 'to', 'retention-age', 'retention-bytes', ...NATS_SETTINGS, 'server-id', 'lag-threshold', 'metrics-port', 'metrics-host']);
  relay.action(lazyAction(ctx, async () => (await import('../actions/relay.js')).relayAction));
}
