import { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import { UsageError } from '../../errors.js';
import { formatPosition } from '../../position.js';
import { waitForReplica } from '../../health/wait.js';
import { addSettingOptions, SOURCE_SETTINGS } from '../options.js';
import type { ProgramContext } from '../program.js';
import { commandEnv } from '../command-helpers.js';

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
  wait.action(async (opts: { timeout: string }, command: Command) => {
    if (!/^\d+(\.\d+)?$/.test(opts.timeout)) throw new UsageError(`--timeout must be a number of seconds (got '${opts.timeout}')`);
    const { settings } = commandEnv(command, ctx.io);
    const source = resolveEndpoint(settings, 'source');
    const target = await waitForReplica({ source, state: settings.state, timeoutMs: Number(opts.timeout) * 1000 });
    ctx.io.out(`caught up with ${formatPosition(target)}\n`);
  });
}
