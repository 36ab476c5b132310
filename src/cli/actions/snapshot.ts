import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { resolveEndpoint } from '../../config/endpoints.js';
import { formatPosition } from '../../position.js';
import { runSnapshot, type SnapshotProgress } from '../../snapshot/snapshot.js';
import { StateStore } from '../../state/state-store.js';
import type { Logger } from '../../log/logger.js';
import { loadMasking } from '../../mask/key.js';
import type { ProgramContext } from '../context.js';
import { commandEnv, requireDatabases } from '../command-helpers.js';

/** A progress bar on a terminal; a log line every few seconds otherwise. */
function progressReporter(tty: boolean, logger: Logger): { update: (p: SnapshotProgress) => void; stop: () => void } {
  const started = Date.now();
  if (tty) {
    const bar = new cliProgress.SingleBar(
      { format: 'snapshot |{bar}| {percentage}% | {value}/{total} rows | {speed} rows/s | ETA {eta_formatted} | {table}', stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let begun = false;
    return {
      update(p) {
        const total = Math.max(p.totalRowsEstimate, p.rowsCopied);
        const speed = Math.round(p.rowsCopied / Math.max(0.001, (Date.now() - started) / 1000));
        if (!begun) bar.start(total, 0, { speed, table: p.table });
        begun = true;
        bar.setTotal(total);
        bar.update(p.rowsCopied, { speed, table: p.table });
      },
      stop: () => bar.stop(),
    };
  }
  let lastLog = 0;
  return {
    update(p) {
      if (Date.now() - lastLog < 5000) return;
      lastLog = Date.now();
      const rate = Math.round(p.rowsCopied / Math.max(0.001, (Date.now() - started) / 1000));
      const eta = rate > 0 && p.totalRowsEstimate > p.rowsCopied ? Math.round((p.totalRowsEstimate - p.rowsCopied) / rate) : 0;
      logger.info({ table: p.table, rows: p.rowsCopied, rowsPerSecond: rate, etaSeconds: eta }, `snapshot: ${p.rowsCopied} rows copied (${rate} rows/s, about ${eta} s left)`);
    },
    stop: () => undefined,
  };
}

/** `snapshot`: copies the selected databases and records the position for `start`. */
export async function snapshotAction(opts: { dropExisting?: boolean }, command: Command, ctx: ProgramContext): Promise<void> {
  const { settings, logger } = commandEnv(command, ctx.io);
  requireDatabases(settings, 'snapshot');
  const source = resolveEndpoint(settings, 'source');
  const replica = resolveEndpoint(settings, 'replica');
  const mask = loadMasking(settings);
  const state = StateStore.open(settings.state, { create: true });
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = progressReporter(ctx.io.stderrIsTTY, logger);
  const started = Date.now();
  try {
    const result = await runSnapshot({
      source,
      replica,
      filter: settings,
      state,
      logger,
      dropExisting: Boolean(opts.dropExisting),
      definer: settings.definer,
      mask,
      signal: controller.signal,
      onProgress: progress.update,
    });
    progress.stop();
    const seconds = (Date.now() - started) / 1000;
    ctx.io.out(
      `snapshot of ${result.tables} tables (${result.rows} rows, ${Math.round(result.rows / Math.max(seconds, 0.001))} rows/s) ` +
        (result.objects > 0 ? `and ${result.objects} views, routines and events ` : '') +
        `at ${formatPosition(result.position)}; \`start\` continues from there\n`,
    );
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    state.close();
  }
}
