// A position written outside the stream: `position set`, `snapshot` and
// `skip` move where `start` continues without applying any source
// transaction. They need no apply session (no session settings, no probes,
// no pipeline): one plain replica connection that claims the stream under a
// new epoch and writes the checkpoint in one fenced transaction, then
// mirrors the position into the state file, as a runner does after each
// commit: nothing reaches the file that the replica refused.
import type { Endpoint } from '../config/connection-url.js';
import { connect } from '../db/connect.js';
import type { DriverError } from '../db/server-errors.js';
import { ApplyError, BinlogSyncError } from '../errors.js';
import type { BinlogPosition } from '../position.js';
import type { HistoryEvent, StateStore } from '../state/state-store.js';
import {
  checkCheckpointWritten,
  checkpointStatement,
  claimCheckpoint,
  ensureCheckpointSchema,
  maskingStatement,
  xaPendingStatement,
  type CheckpointStatement,
  type SqlConnection,
} from './checkpoint.js';

/** What is written with the checkpoint. */
export interface PositionWrite {
  position: BinlogPosition;
  /** When the source committed the transaction the position follows (ms); null when not known. */
  sourceTimestamp: number | null;
  /**
   * The relay stream's message whose transaction ends at the position
   * (`position set --current --from`); absent or null otherwise, which
   * clears the one stored (a `start --from` then finds its place by the
   * position alone, see relay/locate.ts).
   */
  streamSeq?: number | null;
  /**
   * The position passes the prepare group of this XA transaction without
   * applying it (`skip`), so the group that ends it has nothing to end here.
   */
  passedXa?: { xid: string; gtid: string | null };
  /**
   * What the replica's rows were seeded with (`snapshot`; mask/record.ts,
   * null: not masked). Absent: the recorded masking is left as it is.
   */
  masking?: { record: string | null };
}

/** The history entry that tells why the position moved. */
export interface PositionHistory {
  event: HistoryEvent;
  detail: string | null;
  /** The GTID shown (default: the position's); `skip` shows the one it skipped. */
  gtid?: string | null;
}

export interface StreamPositionWrite extends PositionWrite {
  replica: Endpoint;
  state: StateStore;
  history: PositionHistory;
}

/**
 * Writes `position` as the stream's position on the replica, under a new
 * epoch from the state file (so a runner that stalled past its lock cannot
 * commit after it), then in the state file and its history, and clears the
 * recorded error. Throws FencedError, having committed nothing, when a later
 * epoch owns the stream. Call only once no runner is active.
 */
export async function writeStreamPosition(write: StreamPositionWrite): Promise<void> {
  const { state } = write;
  const conn = await connect(write.replica, 'replica');
  try {
    await ensureCheckpointSchema(conn);
    await writeCheckpoint(conn, state.streamId, state.claimEpoch(), write);
  } catch (error) {
    throw replicaFailure(error);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
  mirrorIntoState(state, write);
}

/**
 * Claims the stream for `epoch` and writes the checkpoint with what goes
 * with it. The claim commits on its own: like a runner's, it keeps any older
 * epoch from committing from then on, whether or not the write follows.
 */
export async function writeCheckpoint(conn: SqlConnection, streamId: string, epoch: number, write: PositionWrite): Promise<void> {
  await claimCheckpoint(conn, streamId, epoch);
  await runFenced(conn, epoch, checkpointStatement(streamId, epoch, write.position, write.sourceTimestamp, write.streamSeq ?? null), statementsWith(streamId, epoch, write));
}

/** What commits with the checkpoint: the passed XA transaction, the masking. */
export function statementsWith(streamId: string, epoch: number, write: PositionWrite): CheckpointStatement[] {
  const statements: CheckpointStatement[] = [];
  if (write.passedXa) statements.push(xaPendingStatement(streamId, write.passedXa.xid, false, write.passedXa.gtid));
  if (write.masking) statements.push(maskingStatement(streamId, epoch, write.masking.record));
  return statements;
}

/**
 * Runs the checkpoint update, then `withIt`, in one transaction, and commits
 * it only when the update matched the stream's row for `epoch`: a later
 * epoch that claimed the stream in between (after our claim) makes it match
 * none, and then nothing is committed (FencedError).
 */
export async function runFenced(conn: SqlConnection, epoch: number, checkpoint: CheckpointStatement, withIt: CheckpointStatement[]): Promise<void> {
  await conn.query('START TRANSACTION');
  let committed = false;
  try {
    const [written] = await conn.query(checkpoint.sql, checkpoint.params);
    checkCheckpointWritten((written as { affectedRows?: number } | undefined)?.affectedRows, epoch);
    // (Fenced by the update before them: its row lock keeps any claim out until the COMMIT.)
    for (const statement of withIt) await conn.query(statement.sql, statement.params);
    await conn.query('COMMIT');
    committed = true;
  } finally {
    // (A connection that is gone has rolled back by itself.)
    if (!committed) await conn.query('ROLLBACK').catch(() => undefined);
  }
}

/** The position as the state file keeps it, with its history entry; the recorded error is mended. */
export function mirrorIntoState(state: StateStore, write: Pick<StreamPositionWrite, 'position' | 'sourceTimestamp' | 'history' | 'streamSeq'>): void {
  const { position, sourceTimestamp, history } = write;
  state.savePosition({ ...position, appliedAt: new Date().toISOString(), sourceTimestamp, streamSeq: write.streamSeq ?? null });
  state.setLastError(null);
  state.addHistory({
    event: history.event,
    file: position.file,
    position: position.position,
    gtid: history.gtid !== undefined ? history.gtid : position.gtid,
    detail: history.detail,
  });
}

/** A server error while writing, as one of ours (ours, FencedError among them, pass as they are). */
function replicaFailure(error: unknown): unknown {
  if (error instanceof BinlogSyncError) return error;
  const e = error as DriverError;
  const detail = `${e.sqlMessage ?? e.message ?? String(error)}${e.errno ? ` (error ${e.errno})` : ''}`;
  return new ApplyError(`writing the position to the replica failed: ${detail}; the state file's position was left as it was`, { cause: error });
}
