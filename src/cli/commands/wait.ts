import type { Command } from 'commander';
import { addSettingOptions, NATS_SETTINGS, SOURCE_SETTINGS } from '../options.js';
import type { ProgramContext } from '../context.js';
import { lazyAction } from '../lazy-action.js';

export function registerWaitCommand(program: Command, ctx: ProgramContext): void {
  const wait = program
    .command('wait')
    .description("wait until the replica has applied everything the source had written when called (exit 0), or time out (exit 1)")
    .option('--timeout <seconds>', 'give up after this many seconds', '60')
    .addHelpText(
      'after',
      [
        '',
        "The freshness barrier for test suites. With --from (a replica fed by a relay's stream), it waits for the stream's last message.",
        '',
        'Examples:',
        '  binlog-sync wait --timeout 30 --source mysql://repl_user@prod:3306 && npm test',
        '  binlog-sync wait --timeout 30 --from nats://nats.internal:4222/THEMEPARK && npm test',
      ].join('\n'),
    );
  addSettingOptions(wait, [...SOURCE_SETTINGS, 'from', ...NATS_SETTINGS]);
  wait.action(lazyAction(ctx, async () => (await import('../actions/wait.js')).waitAction));
}
