import type { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import { StateStore } from '../../state/state-store.js';
import type { ServedRun } from '../../health/serve-run.js';
import { describeEndpoint, type Endpoint } from '../../config/connection-url.js';
import { StreamHealth } from '../../health/stream-health.js';
import { decodeThreadWanted, dropSpareThread, startSpareThread } from '../../source/spare-thread.js';
import type { Settings } from '../../config/settings.js';
import type { Logger } from '../../log/logger.js';
import { loadMasking } from '../../mask/key.js';
import { resolveNats } from '../../relay/relay-settings.js';
import { describeRelay } from '../../relay/relay-url.js';
import type { ProgramContext } from '../context.js';
import { defaultServerId, loggerFor, requireDatabases, settingsFor } from '../command-helpers.js';
import { serveMetricsPort } from './metrics-port.js';
import { onStopSignals } from './stop-signals.js';

/** `start`: replicates until SIGINT/SIGTERM. */
export async function startAction(_opts: unknown, command: Command, ctx: ProgramContext): Promise<void> {
  const settings = settingsFor(command, ctx.io.env);
  requireDatabases(settings, 'start');
  // --from: the binlog comes from a relay's stream; --source is then optional (see replicator/stream-session.ts).
  const from = settings.from ? resolveNats(settings, 'from', `binlog-sync start ${settings.databases.join(',')}`) : undefined;
  const source = from && !settings.source ? undefined : resolveEndpoint(settings, 'source');
  const replica = resolveEndpoint(settings, 'replica');
  const serverId = settings.serverId ?? defaultServerId(settings.state);
  const mask = loadMasking(settings);
  // (--from without a state file: a new replica, started at the stream's first message.)
  const state = StateStore.open(settings.state, from ? { create: true } : undefined);
  // The decoding thread loads its modules on another core while this one
  // loads the logger's (pino) and the replicator's below. (Sized as the
  // session will ask: a stream read without a source knows no larger row.)
  if (decodeThreadWanted()) startSpareThread(state, from && !source ? 0 : undefined);
  const logger = loggerFor(settings);

  // Graceful first, forced second, a stop within 10 s (see stop-signals.ts).
  const stopping = onStopSignals(logger);
  if (from) logger.info({ state: settings.state, databases: settings.databases, from: describeRelay(from.address) }, `starting from the relay's stream ${describeRelay(from.address)}`);
  else logger.info({ serverId, state: settings.state, databases: settings.databases }, `starting with server id ${serverId}`);
  const health = new StreamHealth();
  let served: ServedRun | undefined;
  try {
    // Imported here, not with this module: see the decoding thread above.
    const { runReplicator } = await import('../../replicator/replicator.js');
    served = await serveMetricsOn(settings, { health, state, logger, source: from ? describeRelay(from.address) : describeEndpoint(source!), replica });
    const page = served ? { metrics: served.metrics, events: served.events, onProgress: served.onProgress } : {};
    await runReplicator({ source, ...(from ? { from } : {}), replica, serverId, filter: settings, definer: settings.definer, mask, state, logger, signal: stopping.signal, health, ...page });
  } finally {
    stopping.dispose();
    dropSpareThread();
    await served?.close();
    state.close();
  }
}

/** --metrics-port: Prometheus metrics, /healthz and the status page (prom-client is loaded for it only). */
async function serveMetricsOn(
  settings: Settings,
  run: { health: StreamHealth; state: StateStore; logger: Logger; source: string; replica: Endpoint },
): Promise<ServedRun | undefined> {
  return serveMetricsPort(settings, run.logger, async (host, port) =>
    (await import('../../health/serve-run.js')).serveRun({
      host,
      port,
      health: run.health,
      state: run.state,
      lagThreshold: settings.lagThreshold,
      run: {
        kind: 'replica',
        source: run.source,
        replica: describeEndpoint(run.replica),
        databases: settings.databases,
        includeTables: settings.includeTables,
        excludeTables: settings.excludeTables,
        rewriteDb: settings.rewriteDb,
        mask: settings.mask,
      },
    }),
  );
}
