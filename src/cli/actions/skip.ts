import type { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import { formatPosition } from '../../position.js';
import { skipFailedTransaction } from '../../replicator/skip.js';
import { resolveNats } from '../../relay/relay-settings.js';
import { StateStore } from '../../state/state-store.js';
import type { ProgramContext } from '../context.js';
import { commandEnv, defaultServerId } from '../command-helpers.js';

/** `skip`: steps over the transaction `start` stopped on. */
export async function skipAction(_opts: unknown, command: Command, ctx: ProgramContext): Promise<void> {
  const { settings, logger } = commandEnv(command, ctx.io);
  // --from: the failed transaction is read from the relay's stream, not the source.
  const from = settings.from ? resolveNats(settings, 'from', 'binlog-sync skip') : undefined;
  const source = from ? undefined : resolveEndpoint(settings, 'source');
  const replica = resolveEndpoint(settings, 'replica');
  const state = StateStore.open(settings.state);
  try {
    const result = await skipFailedTransaction({
      source,
      from,
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
}
