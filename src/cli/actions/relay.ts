import type { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import { StateStore } from '../../state/state-store.js';
import { resolveNats, resolveRetention } from '../../relay/relay-settings.js';
import { describeRelay } from '../../relay/relay-url.js';
import type { ProgramContext } from '../context.js';
import { defaultServerId, loggerFor, requireDatabases, settingsFor } from '../command-helpers.js';
import { onStopSignals } from './stop-signals.js';

/** `relay`: publishes the source's transactions to the stream until SIGINT/SIGTERM. */
export async function relayAction(_opts: unknown, command: Command, ctx: ProgramContext): Promise<void> {
  const settings = settingsFor(command, ctx.io.env);
  requireDatabases(settings, 'relay');
  const source = resolveEndpoint(settings, 'source');
  const nats = resolveNats(settings, 'to', `binlog-sync relay ${settings.databases.join(',')}`);
  const retention = resolveRetention(settings);
  const serverId = settings.serverId ?? defaultServerId(settings.state);
  const state = StateStore.open(settings.state);
  const logger = loggerFor(settings);
  const stop = onStopSignals(logger);
  logger.info({ serverId, state: settings.state, databases: settings.databases, to: describeRelay(nats.address) }, `relay starting with server id ${serverId}`);
  try {
    const { runRelay } = await import('../../relay/relay.js');
    await runRelay({ source, serverId, nats, retention, filter: { databases: settings.databases, includeTables: [], excludeTables: [], rewriteDb: {} }, state, logger, signal: stop.signal });
  } finally {
    stop.dispose();
    state.close();
  }
}
