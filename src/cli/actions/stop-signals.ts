// The first SIGINT/SIGTERM stops gracefully, a second one forces the exit;
// the contract promises a stop within 10 s either way (graphile-worker's
// registerSignalHandlers). For the long-running commands: `start` and `relay`.
import type { Logger } from '../../log/logger.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export function onStopSignals(logger: Logger): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let forceTimer: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'stopping: finishing the current step, then saving the position');
    controller.abort();
    forceTimer = setTimeout(() => {
      logger.error('did not stop within 10 s; exiting');
      process.exit(1);
    }, 10_000);
    forceTimer.unref();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
      clearTimeout(forceTimer);
    },
  };
}
