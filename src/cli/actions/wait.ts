import type { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import { UsageError } from '../../errors.js';
import { formatPosition } from '../../position.js';
import { waitForReplica } from '../../health/wait.js';
import type { ProgramContext } from '../context.js';
import { commandEnv } from '../command-helpers.js';

/** `wait`: the freshness barrier. */
export async function waitAction(opts: { timeout: string }, command: Command, ctx: ProgramContext): Promise<void> {
  if (!/^\d+(\.\d+)?$/.test(opts.timeout)) throw new UsageError(`--timeout must be a number of seconds (got '${opts.timeout}')`);
  const { settings } = commandEnv(command, ctx.io);
  const source = resolveEndpoint(settings, 'source');
  const target = await waitForReplica({ source, state: settings.state, timeoutMs: Number(opts.timeout) * 1000 });
  ctx.io.out(`caught up with ${formatPosition(target)}\n`);
}
