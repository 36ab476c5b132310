// The status decision, as the manual guide's check_replication.sql made it,
// but from facts that do not lie: a live runner, a live stream, and lag
// measured from source commit times.
import type { AppliedPosition, BinlogPosition } from '../position.js';
import type { LastError, RunnerHealth, RunnerInfo } from '../state/state-store.js';

export type HealthState = 'HEALTHY' | 'LAGGING' | 'STOPPED' | 'UNKNOWN';

export const STATUS_EXIT_CODES: Record<HealthState, number> = { HEALTHY: 0, LAGGING: 1, STOPPED: 2, UNKNOWN: 3 };

export interface Retention {
  /** How long the source keeps binlogs (seconds); null when forever. */
  expireSeconds: number | null;
  /** The binlog file of the stored position is still on the source. */
  fileOnSource: boolean;
  /** Roughly how long until that file may be purged; null when unknown or never. */
  secondsLeft: number | null;
  /** Set when the position is gone or about to be. */
  warning: string | null;
}

export interface StatusReport {
  state: HealthState;
  running: boolean;
  lagSeconds: number | null;
  lagThresholdSeconds: number;
  /**
   * `streamSeq`: the relay stream's message of the position (`start --from`:
   * the last applied; a relay: the last published); null for a position not
   * of a stream.
   */
  applied: (BinlogPosition & { appliedAt: string; streamSeq: number | null }) | null;
  source: BinlogPosition | null;
  lastError: (Omit<LastError, 'table' | 'statement'> & { table: string | null; statement: string | null }) | null;
  runner: {
    pid: number;
    hostname: string;
    startedAt: string;
    sourceConnected: boolean;
    reconnects: number;
    /** Grouped, or careful for the next n transactions after a failure (null from an older runner). */
    applyMode: RunnerHealth['applyMode'] | null;
    capabilities: RunnerHealth['capabilities'] | null;
    /** Tables whose rows were applied as SQL statements on a run of the BINLOG path (see RunnerHealth). */
    sqlPathTables: string[];
  } | null;
  retention: Retention | null;
}

export function decideState(running: boolean, lagSeconds: number | null, threshold: number): HealthState {
  if (!running) return 'STOPPED';
  if (lagSeconds === null) return 'UNKNOWN';
  return lagSeconds >= threshold ? 'LAGGING' : 'HEALTHY';
}

export interface StatusInputs {
  runner: RunnerInfo | null;
  applied: AppliedPosition | null;
  source: BinlogPosition | null;
  lastError: LastError | null;
  lagThreshold: number;
  retention: Retention | null;
}

export function buildStatus(inputs: StatusInputs): StatusReport {
  const { runner } = inputs;
  const running = runner !== null;
  const raw = running && runner.health?.sourceConnected ? runner.health.lagSeconds : null;
  // Decide on the figure shown, so a displayed 5.0 s is never HEALTHY at a 5 s threshold.
  const lag = raw === null ? null : Math.round(raw * 10) / 10;
  return {
    state: decideState(running, lag, inputs.lagThreshold),
    running,
    lagSeconds: lag,
    lagThresholdSeconds: inputs.lagThreshold,
    applied: inputs.applied
      ? {
          file: inputs.applied.file,
          position: inputs.applied.position,
          gtid: inputs.applied.gtid,
          appliedAt: inputs.applied.appliedAt,
          streamSeq: inputs.applied.streamSeq ?? null,
        }
      : null,
    source: inputs.source,
    lastError: inputs.lastError,
    runner: runner
      ? {
          pid: runner.pid,
          hostname: runner.hostname,
          startedAt: runner.startedAt,
          sourceConnected: runner.health?.sourceConnected ?? false,
          reconnects: runner.health?.reconnects ?? 0,
          applyMode: runner.health?.applyMode ?? null,
          capabilities: runner.health?.capabilities ?? null,
          sqlPathTables: runner.health?.sqlPathTables ?? [],
        }
      : null,
    retention: inputs.retention,
  };
}

/**
 * Binlog retention left for the stored position: the source purges a file
 * `expireSeconds` after it was last written, and the stored position's file
 * was written no earlier than the source time of the last applied transaction.
 */
export function retentionFor(
  applied: AppliedPosition | null,
  binlogFiles: string[],
  expireSeconds: number | null,
  nowSourceMs: number,
): Retention | null {
  if (!applied?.file) return null;
  const fileOnSource = binlogFiles.includes(applied.file);
  if (!fileOnSource) {
    return {
      expireSeconds,
      fileOnSource,
      secondsLeft: 0,
      warning: `binlog ${applied.file} of the stored position has been purged on the source; run \`binlog-sync snapshot\` to start over`,
    };
  }
  if (!expireSeconds || applied.sourceTimestamp === null) return { expireSeconds, fileOnSource, secondsLeft: null, warning: null };
  const left = Math.max(0, expireSeconds - (nowSourceMs - applied.sourceTimestamp) / 1000);
  const warning =
    left < Math.min(86_400, expireSeconds / 4)
      ? `binlog ${applied.file} of the stored position may be purged on the source in ${Math.round(left / 60)} min; let \`start\` catch up`
      : null;
  return { expireSeconds, fileOnSource, secondsLeft: Math.round(left), warning };
}
