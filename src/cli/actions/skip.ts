import type { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import { formatPosition } from '../../position.js';
import { skipFailedTransaction } from '../../replicator/skip.js';
import { StateStore } from '../../state/state-store.js';
import type { ProgramContext } from '../context.js';
import { commandEnv, defaultServerId } from '../command-helpers.js';

/** `skip`: steps over the transaction `start` stopped on. */
export async function skipAction(_opts: unknown, command: Command, ctx: ProgramContext): Promise<void> {
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
}
