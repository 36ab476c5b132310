import type { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import { StateError, describeError } from '../../errors.js';
import { formatPosition, type BinlogPosition } from '../../position.js';
import { buildStatus, retentionFor, STATUS_EXIT_CODES, type Retention, type StatusReport } from '../../health/status.js';
import {
  binlogExpireSeconds,
  connectSource,
  currentSourcePosition,
  measureClockOffset,
  readSourceInfo,
  sourceBinlogFiles,
} from '../../source/source-server.js';
import { StateStore } from '../../state/state-store.js';
import type { Logger } from '../../log/logger.js';
import type { ProgramContext } from '../context.js';
import { commandEnv, printJson } from '../command-helpers.js';
import { streamSeqNote } from './position.js';
import type { Settings } from '../../config/settings.js';
import type { AppliedPosition } from '../../position.js';

/** What the source says now; null (and a log line) when it cannot be asked. */
async function askSource(
  settings: Settings,
  applied: AppliedPosition | null,
  logger: Logger,
): Promise<{ position: BinlogPosition; retention: Retention | null } | null> {
  if (!settings.source) return null;
  try {
    const conn = await connectSource(resolveEndpoint(settings, 'source'));
    try {
      const info = await readSourceInfo(conn);
      const position = await currentSourcePosition(conn, info);
      const offset = await measureClockOffset(conn);
      const retention = retentionFor(applied, await sourceBinlogFiles(conn), await binlogExpireSeconds(conn), Date.now() + offset);
      return { position, retention };
    } finally {
      await conn.end().catch(() => undefined);
    }
  } catch (error) {
    logger.warn(`the source could not be asked for its position: ${describeError(error)}`);
    return null;
  }
}

function printText(report: StatusReport, out: (t: string) => void): void {
  const lag = report.lagSeconds === null ? 'lag unknown' : `lag ${report.lagSeconds.toFixed(1)} s`;
  const lines = [`${report.state}  ${lag} (threshold ${report.lagThresholdSeconds} s)`];
  lines.push(`running:    ${report.runner ? `yes, pid ${report.runner.pid} on ${report.runner.hostname} since ${report.runner.startedAt}${report.runner.sourceConnected ? '' : ' (not connected to the source)'}` : 'no'}`);
  const runner = report.runner;
  if (runner?.applyMode?.kind === 'careful') lines.push(`applying:   one transaction at a time for the next ${runner.applyMode.left} (after a failed group)`);
  if (runner?.capabilities && 'binlogStatements' in runner.capabilities) {
    lines.push(
      `row events: ${runner.capabilities.binlogStatements ? "applied by the replica's own row code (BINLOG statements)" : 'applied as SQL statements (see the log for why)'}`,
    );
  }
  const lost = Object.entries(runner?.capabilities ?? {})
    .filter(([name, on]) => !on && name !== 'binlogStatements')
    .map(([name]) => name);
  if (lost.length > 0) lines.push(`without:    ${lost.join(', ')} for the rest of this run (see the log for why)`);
  lines.push(`applied:    ${report.applied ? `${formatPosition(report.applied)}${streamSeqNote(report.applied)} at ${report.applied.appliedAt}` : 'nothing yet'}`);
  lines.push(`source:     ${report.source ? formatPosition(report.source) : 'not asked (give --source) or unreachable'}`);
  if (report.retention?.warning) lines.push(`retention:  WARNING ${report.retention.warning}`);
  else if (report.retention?.secondsLeft != null) lines.push(`retention:  about ${Math.round(report.retention.secondsLeft / 3600)} h left for the stored position`);
  lines.push(`last error: ${report.lastError ? `${report.lastError.message} (${report.lastError.at})` : 'none'}`);
  out(`${lines.join('\n')}\n`);
}

/** `status`: the health as text or JSON, and as the exit code. */
export async function statusAction(opts: { json?: boolean }, command: Command, ctx: ProgramContext): Promise<void> {
  const { settings, logger } = commandEnv(command, ctx.io);
  let state: StateStore;
  try {
    state = StateStore.open(settings.state, { readonly: true });
  } catch (error) {
    // A monitoring check must answer with its own codes: no state is UNKNOWN.
    if (!(error instanceof StateError)) throw error;
    ctx.io.err(`binlog-sync: ${error.message}\n`);
    const report = buildStatus({ runner: null, applied: null, source: null, lastError: null, lagThreshold: settings.lagThreshold, retention: null });
    report.state = 'UNKNOWN';
    if (opts.json) printJson(ctx.io, report);
    else printText(report, ctx.io.out);
    ctx.result.exitCode = STATUS_EXIT_CODES.UNKNOWN;
    return;
  }
  let report: StatusReport;
  try {
    const applied = state.getPosition();
    const fromSource = await askSource(settings, applied, logger);
    report = buildStatus({
      runner: state.activeRunner(),
      applied,
      source: fromSource?.position ?? null,
      lastError: state.getLastError(),
      lagThreshold: settings.lagThreshold,
      retention: fromSource?.retention ?? null,
    });
  } finally {
    state.close();
  }
  if (opts.json) printJson(ctx.io, report);
  else printText(report, ctx.io.out);
  ctx.result.exitCode = STATUS_EXIT_CODES[report.state];
}
