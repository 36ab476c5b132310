import type { Command } from 'commander';
import { describeEndpoint } from '../../config/connection-url.js';
import { resolveEndpoint } from '../../config/endpoints.js';
import type { ServedRelay } from '../../health/serve-relay.js';
import { RelayHealth } from '../../relay/relay-health.js';
import { StateStore } from '../../state/state-store.js';
import { resolveNats, resolveRetention } from '../../relay/relay-settings.js';
import { describeRelay } from '../../relay/relay-url.js';
import type { ProgramContext } from '../context.js';
import { defaultServerId, loggerFor, requireDatabases, settingsFor } from '../command-helpers.js';
import { serveMetricsPort } from './metrics-port.js';
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
  const health = new RelayHealth();
  let served: ServedRelay | undefined;
  try {
    const { runRelay } = await import('../../relay/relay.js');
    // --metrics-port: /metrics, /healthz and the status page (prom-client and the page loaded for it only).
    served = await serveMetricsPort(settings, logger, async (host, port) =>
      (await import('../../health/serve-relay.js')).serveRelay({
        host,
        port,
        health,
        state,
        lagThreshold: settings.lagThreshold,
        run: { kind: 'relay', source: describeEndpoint(source), stream: describeRelay(nats.address), databases: settings.databases },
      }),
    );
    const page = served ? { metrics: served.metrics, events: served.events, onProgress: served.onProgress } : {};
    await runRelay({
      source,
      serverId,
      nats,
      retention,
      filter: { databases: settings.databases, includeTables: [], excludeTables: [], rewriteDb: {} },
      state,
      logger,
      signal: stop.signal,
      health,
      ...page,
    });
  } finally {
    stop.dispose();
    await served?.close();
    state.close();
  }
}
