import { isMysqlGtid } from '../../txn/mysql-gtid-set.js';
import type { Command } from 'commander';
import type CliProgress from 'cli-progress';
import { resolveEndpoint } from '../../config/endpoints.js';
import { UsageError } from '../../errors.js';
import { formatPosition } from '../../position.js';
import { StateStore } from '../../state/state-store.js';
import { loadMasking } from '../../mask/key.js';
import { decodeThreadWanted, dropSpareThread, startSpareThread } from '../../source/spare-thread.js';
import type { ReplayPlan, ReplayStop } from '../../replay/plan.js';
import type { ReplicatorStats } from '../../replicator/run-context.js';
import type { ProgramContext } from '../context.js';
import { loggerFor, requireDatabases, settingsFor } from '../command-helpers.js';

export interface ReplayOpts {
  stopPosition?: string;
  stopDatetime?: string;
  stopGtid?: string;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** `replay FILE...`: applies binlog files as `start` would, then exits. */
export async function replayAction(files: string[], opts: ReplayOpts, command: Command, ctx: ProgramContext): Promise<void> {
  const settings = settingsFor(command, ctx.io.env);
  requireDatabases(settings, 'replay');
  const stop = parseStop(opts);
  const replica = resolveEndpoint(settings, 'replica');
  const source = settings.source ? resolveEndpoint(settings, 'source') : undefined;
  const mask = loadMasking(settings);
  const state = StateStore.open(settings.state, { create: true });
  // The decoding thread loads its modules on another core while this one
  // loads the rest and reads the files' plan, as for `start` (without
  // --source the files' rows are bounded by nothing the thread must know).
  if (decodeThreadWanted()) startSpareThread(state, source ? undefined : 0);
  const logger = loggerFor(settings);
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(1);
    logger.info('stopping: finishing the current transaction, then saving the position');
    controller.abort();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  // (The progress bar's library is loaded for a terminal only.)
  const progress = ctx.io.stderrIsTTY ? progressBar((await import('cli-progress')).default) : undefined;
  try {
    const { runReplay, replayedBytes } = await import('../../replicator/replay.js');
    const result = await runReplay({
      files,
      stop,
      replica,
      source,
      filter: settings,
      definer: settings.definer,
      mask,
      state,
      logger,
      signal: controller.signal,
      onProgress: (stats, plan) => progress?.update(stats, plan, replayedBytes(plan, stats.position)),
    });
    progress?.stop();
    const at = result.stats.position;
    ctx.io.out(
      `${result.interrupted ? 'stopped after' : 'replayed'} ${result.stats.transactions} transactions (${result.stats.rows} rows) of ${result.plan.files} files; ` +
        `the replica is at ${at ? formatPosition(at) : '(no position)'}${result.interrupted ? '' : '; `start` continues from there'}\n`,
    );
  } finally {
    progress?.stop();
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    dropSpareThread();
    state.close();
  }
}

/** The one stop option given, as the plan takes it. */
export function parseStop(opts: ReplayOpts): ReplayStop {
  const given = [opts.stopPosition, opts.stopDatetime, opts.stopGtid].filter((o) => o !== undefined);
  if (given.length > 1) throw new UsageError('give one of --stop-position, --stop-datetime and --stop-gtid');
  if (opts.stopPosition !== undefined) {
    const m = /^(.+):(\d+)$/.exec(opts.stopPosition);
    if (!m) throw new UsageError(`--stop-position is FILE:POS, e.g. mysql-bin.000042:1234 (got '${opts.stopPosition}')`);
    return { position: { file: m[1]!, position: Number(m[2]) } };
  }
  if (opts.stopDatetime !== undefined) {
    // 'YYYY-MM-DD HH:MM:SS' is local time, as mysqlbinlog takes it; ISO 8601 may name its zone.
    const ms = Date.parse(opts.stopDatetime.trim().replace(/^(\d{4}-\d\d-\d\d) /, '$1T'));
    if (Number.isNaN(ms)) throw new UsageError(`--stop-datetime is a date and time, e.g. '2026-12-07 14:00:00' (got '${opts.stopDatetime}')`);
    return { datetimeMs: ms };
  }
  if (opts.stopGtid !== undefined) {
    const gtid = opts.stopGtid.trim().toLowerCase();
    if (!/^\d+-\d+-\d+$/.test(gtid) && !isMysqlGtid(gtid)) {
      throw new UsageError(`--stop-gtid is one GTID, MariaDB's 0-1-42 or MySQL's uuid:42 or uuid:tag:42 (got '${opts.stopGtid}')`);
    }
    return { gtid };
  }
  return {};
}

/** Files, bytes and transactions on a terminal. */
function progressBar(cliProgress: typeof CliProgress): { update: (stats: Readonly<ReplicatorStats>, plan: ReplayPlan, bytes: number) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    { format: 'replay |{bar}| {percentage}% | {mb}/{totalMb} MB of {files} files | {transactions} transactions | {file}', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let begun = false;
  return {
    update(stats, plan, bytes) {
      const payload = {
        mb: (bytes / 1048576).toFixed(1),
        totalMb: (plan.bytes / 1048576).toFixed(1),
        files: plan.files,
        transactions: stats.transactions,
        file: stats.position?.file ?? '',
      };
      if (!begun) bar.start(Math.max(plan.bytes, 1), 0, payload);
      begun = true;
      bar.update(Math.min(bytes, plan.bytes), payload);
    },
    stop: () => {
      if (begun) bar.stop();
      begun = false;
    },
  };
}
