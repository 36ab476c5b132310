import type { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import { formatPosition } from '../../position.js';
import { skipFailedTransaction } from '../../replicator/skip.js';
import { StateStore } from '../../state/state-store.js';
import { addSettingOptions, REPLICA_SETTINGS, SOURCE_SETTINGS } from '../options.js';
import type { ProgramContext } from '../program.js';
import { commandEnv, defaultServerId } from '../command-helpers.js';

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
      ].join('\n'),
    );
  addSettingOptions(skip, [...SOURCE_SETTINGS, ...REPLICA_SETTINGS, 'server-id']);
  skip.action(async (_opts: unknown, command: Command) => {
    const { settings, logger } = commandEnv(command, ctx.io);
    const source = resolveEndpoint(settings, 'source');
    const replica = resolveEndpoint(settings, 'replica');
    const state = StateStore.open(settings.state);
    try {
      const result = await skipFailedTransaction({
        source,
        replica,
        serverId: settings.serverId ?? defaultServerId(settings.state),
        state,
        logger,
      });
      const what = result.gtid ? `transaction GTID ${result.gtid}` : 'one transaction';
      ctx.io.out(`skipped ${what}; \`start\` continues at ${formatPosition(result.to)}\n`);
    } finally {
      state.close();
    }
  });
}
