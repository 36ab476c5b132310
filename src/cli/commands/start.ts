import type { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import { runReplicator } from '../../replicator/replicator.js';
import { StateStore } from '../../state/state-store.js';
import { MetricsServerError } from '../../errors.js';
import { ReplicationMetrics, serveMetrics } from '../../health/metrics.js';
import { StreamHealth } from '../../health/stream-health.js';
import { addSettingOptions, FILTER_SETTINGS, MASK_SETTINGS, REPLICA_SETTINGS, SOURCE_SETTINGS } from '../options.js';
import { loadMasking } from '../../mask/key.js';
import type { ProgramContext } from '../program.js';
import { commandEnv, defaultServerId, requireDatabases } from '../command-helpers.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export function registerStartCommand(program: Command, ctx: ProgramContext): void {
  const start = program
    .command('start')
    .description(
      "stream the source's ROW binlog from the stored position and apply each source transaction to the replica, " +
        'atomically and in commit order, until SIGINT/SIGTERM',
    )
    .addHelpText(
      'after',
      [
        '',
        'The first SIGINT/SIGTERM stops gracefully (within 10 s, position saved, exit 0); a second one forces the exit.',
        'With --mask, rows are masked as they are decoded; the rules and key must be those the replica was seeded with (docs/masking.md).',
        '',
        'Example:',
        '  BINLOG_SYNC_SOURCE_PASSWORD=... binlog-sync start --source mysql://repl_user@prod:3306 \\',
        '    --replica mysql://binlog_sync@127.0.0.1:3306 --databases themepark_tracker',
      ].join('\n'),
    );
  addSettingOptions(start, [...SOURCE_SETTINGS, ...REPLICA_SETTINGS, ...FILTER_SETTINGS, ...MASK_SETTINGS, 'definer', 'server-id', 'lag-threshold', 'metrics-port', 'metrics-host']);
  start.action(async (_opts: unknown, command: Command) => {
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
  });
}
