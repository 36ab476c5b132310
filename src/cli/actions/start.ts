import type { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import { StateStore } from '../../state/state-store.js';
import { MetricsServerError } from '../../errors.js';
import type { ReplicationMetrics } from '../../health/metrics.js';
import { StreamHealth } from '../../health/stream-health.js';
import { decodeThreadWanted, dropSpareThread, startSpareThread } from '../../source/spare-thread.js';
import type { Settings } from '../../config/settings.js';
import type { Logger } from '../../log/logger.js';
import { loadMasking } from '../../mask/key.js';
import type { ProgramContext } from '../context.js';
import { defaultServerId, loggerFor, requireDatabases, settingsFor } from '../command-helpers.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** `start`: replicates until SIGINT/SIGTERM. */
export async function startAction(_opts: unknown, command: Command, ctx: ProgramContext): Promise<void> {
  const settings = settingsFor(command, ctx.io.env);
  requireDatabases(settings, 'start');
  const source = resolveEndpoint(settings, 'source');
  const replica = resolveEndpoint(settings, 'replica');
  const serverId = settings.serverId ?? defaultServerId(settings.state);
  const mask = loadMasking(settings);
  const state = StateStore.open(settings.state);
  // The decoding thread loads its modules on another core while this one
  // loads the logger's (pino) and the replicator's below.
  if (decodeThreadWanted()) startSpareThread(state);
  const logger = loggerFor(settings);

  // Graceful first, forced second (graphile-worker's registerSignalHandlers).
  const controller = new AbortController();
  let forceTimer: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'stopping: finishing the current step, then saving the position');
    controller.abort();
    // The contract promises a stop within 10 s; never hang past it.
    forceTimer = setTimeout(() => {
      logger.error('did not stop within 10 s; exiting');
      process.exit(1);
    }, 10_000);
    forceTimer.unref();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  logger.info({ serverId, state: settings.state, databases: settings.databases }, `starting with server id ${serverId}`);
  const health = new StreamHealth();
  let served: ServedMetrics | undefined;
  try {
    // Imported here, not with this module: see the decoding thread above.
    const { runReplicator } = await import('../../replicator/replicator.js');
    if (settings.metricsPort !== undefined) served = await serveMetricsOn(settings.metricsPort, settings, { health, state, logger });
    const metrics = served ? { metrics: served.metrics } : {};
    await runReplicator({ source, replica, serverId, filter: settings, definer: settings.definer, mask, state, logger, signal: controller.signal, health, ...metrics });
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    clearTimeout(forceTimer);
    dropSpareThread();
    await served?.server.close();
    state.close();
  }
}

interface ServedMetrics {
  metrics: ReplicationMetrics;
  server: { close: () => Promise<void> };
}

/** --metrics-port: Prometheus metrics and /healthz (prom-client is loaded for it only). */
async function serveMetricsOn(
  port: number,
  settings: Settings,
  run: { health: StreamHealth; state: StateStore; logger: Logger },
): Promise<ServedMetrics> {
  const { ReplicationMetrics, serveMetrics } = await import('../../health/metrics.js');
  const sources = { health: run.health, position: () => run.state.getPosition(), lagThreshold: settings.lagThreshold };
  const metrics = new ReplicationMetrics(sources);
  const server = await serveMetrics(settings.metricsHost, port, metrics, sources).catch((error: Error) => {
    throw new MetricsServerError(`cannot serve metrics on ${settings.metricsHost}:${port} (--metrics-port): ${error.message}`, { cause: error });
  });
  run.logger.info(`serving metrics on http://${settings.metricsHost}:${port}/metrics and /healthz`);
  return { metrics, server };
}
