import type { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import { UsageError } from '../../errors.js';
import { formatPosition } from '../../position.js';
import { waitForReplica } from '../../health/wait.js';
import { resolveNats } from '../../relay/relay-settings.js';
import { lastStreamPosition } from './position.js';
import type { ProgramContext } from '../context.js';
import { commandEnv } from '../command-helpers.js';

/** `wait`: the freshness barrier. */
export async function waitAction(opts: { timeout: string }, command: Command, ctx: ProgramContext): Promise<void> {
  if (!/^\d+(\.\d+)?$/.test(opts.timeout)) throw new UsageError(`--timeout must be a number of seconds (got '${opts.timeout}')`);
  const { settings } = commandEnv(command, ctx.io);
  const timeoutMs = Number(opts.timeout) * 1000;
  // --from: the replica is fed by a relay's stream; caught up means its last message applied.
  const from = settings.from ? resolveNats(settings, 'from', 'binlog-sync wait') : undefined;
  const target = from
    ? await waitForReplica({ target: async () => (await lastStreamPosition(from)).position, state: settings.state, timeoutMs })
    : await waitForReplica({ source: resolveEndpoint(settings, 'source'), state: settings.state, timeoutMs });
  ctx.io.out(`caught up with ${formatPosition(target)}\n`);
}
