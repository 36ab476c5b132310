import type { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import { runReplicator } from '../../replicator/replicator.js';
import { StateStore } from '../../state/state-store.js';
import { MetricsServerError } from '../../errors.js';
import { ReplicationMetrics, serveMetrics } from '../../health/metrics.js';
import { StreamHealth } from '../../health/stream-health.js';
import { loadMasking } from '../../mask/key.js';
import type { ProgramContext } from '../program.js';
import { commandEnv, defaultServerId, requireDatabases } from '../command-helpers.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** `start`: replicates until SIGINT/SIGTERM. */
export async function startAction(_opts: unknown, command: Command, ctx: ProgramContext): Promise<void> {
  const { settings, logger } = commandEnv(command, ctx.io);
  requireDatabases(settings, 'start');
  const source = resolveEndpoint(settings, 'source');
  const replica = resolveEndpoint(settings, 'replica');
  const serverId = settings.serverId ?? defaultServerId(settings.state);
  const mask = loadMasking(settings);
  const state = StateStore.open(settings.state);

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
  let metrics: ReplicationMetrics | undefined;
  let metricsServer: { close: () => Promise<void> } | undefined;
  try {
    if (settings.metricsPort !== undefined) {
      const sources = { health, position: () => state.getPosition(), lagThreshold: settings.lagThreshold };
      metrics = new ReplicationMetrics(sources);
      metricsServer = await serveMetrics(settings.metricsHost, settings.metricsPort, metrics, sources).catch((error: Error) => {
        throw new MetricsServerError(`cannot serve metrics on ${settings.metricsHost}:${settings.metricsPort} (--metrics-port): ${error.message}`, {
          cause: error,
        });
      });
      logger.info(`serving metrics on http://${settings.metricsHost}:${settings.metricsPort}/metrics and /healthz`);
    }
    await runReplicator({ source, replica, serverId, filter: settings, definer: settings.definer, mask, state, logger, signal: controller.signal, health, ...(metrics ? { metrics } : {}) });
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    clearTimeout(forceTimer);
    await metricsServer?.close();
    state.close();
  }
}
