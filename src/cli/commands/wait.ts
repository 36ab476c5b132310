import type { Command } from 'commander';
import { addSettingOptions, SOURCE_SETTINGS } from '../options.js';
import type { ProgramContext } from '../context.js';
import { lazyAction } from '../lazy-action.js';

export function registerWaitCommand(program: Command, ctx: ProgramContext): void {
  const wait = program
    .command('wait')
    .description("wait until the replica has applied everything the source had written when called (exit 0), or time out (exit 1)")
    .option('--timeout <seconds>', 'give up after this many seconds', '60')
    .addHelpText(
      'after',
      ['', 'The freshness barrier for test suites.', '', 'Example:', '  binlog-sync wait --timeout 30 --source mysql://repl_user@prod:3306 && npm test'].join('\n'),
    );
  addSettingOptions(wait, SOURCE_SETTINGS);
  wait.action(lazyAction(ctx, async () => (await import('../actions/wait.js')).waitAction));
}
