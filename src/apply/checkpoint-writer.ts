// The stream's checkpoint row as the apply session writes it (checkpoint.ts
// has the statements): one owner for the epoch it claimed, the fence every
// write passes (a write that matches no row means a later runner owns the
// stream: nothing of it commits), and the mark of a statement that commits
// on its own (DDL, XA COMMIT/ROLLBACK), so that its re-run after a crash
// knows it may already have happened.
import type { AppliedPosition, BinlogPosition } from '../position.js';
import {
  checkCheckpointWritten,
  checkpointStatement,
  claimCheckpoint,
  nonTransactionalStatement,
  ownerConnectionStatement,
  pendingDdlStatement,
  readNonTransactionalMark,
  readXaPending,
  xaDoneStatement,
  xaPendingStatement,
  type Checkpoint,
  type CheckpointStatement,
} from './checkpoint.js';
import { NO_CONTEXT } from './apply-errors.js';
import type { ReplicaConnection } from './replica-connection.js';
import type { ApplyContext } from './statement-buffer.js';

export class CheckpointWriter {
  /** The fencing token this session writes under (0 until claimed). */
  private epoch = 0;
  /** A statement marked as started before a restart (its "already done" errors then mean success). */
  private started: string | null = null;

  constructor(
    private readonly replica: ReplicaConnection,
    private readonly streamId: string,
  ) {}

  /**
   * Claims the stream's checkpoint for `epoch` (from the state file) and
   * returns the position it holds. Every write afterwards commits only while
   * `epoch` still owns the stream; FencedError once a later one claimed it.
   */
  async claim(epoch: number): Promise<Checkpoint | null> {
    const checkpoint = await claimCheckpoint(this.replica.current, this.streamId, epoch);
    this.epoch = epoch;
    this.started = checkpoint?.pendingDdl ?? null;
    return checkpoint;
  }

  /**
   * The position of a source transaction, written in the replica transaction
   * that applies it, with the relay stream's message it came in (null: not
   * read from a stream).
   */
  position(position: BinlogPosition, sourceTimestamp: AppliedPosition['sourceTimestamp'], streamSeq: number | null = null): CheckpointStatement {
    return checkpointStatement(this.streamId, this.epoch, position, sourceTimestamp, streamSeq);
  }

  /** The answer to a checkpoint write: one row, or a later epoch owns the stream (FencedError). */
  checkWritten(affectedRows: number | undefined): void {
    checkCheckpointWritten(affectedRows, this.epoch);
  }

  /**
   * Runs a checkpoint write, then `withIt` (in the same transaction), and the
   * COMMIT; throws FencedError, committing nothing, when our epoch no longer
   * owns the stream.
   */
  async write(statement: CheckpointStatement, context: ApplyContext, withIt: CheckpointStatement[] = []): Promise<void> {
    if (withIt.length === 0) {
      const [written] = (await this.replica.run(`${statement.sql}; COMMIT`, statement.params, context, 'checkpoint')) as Array<{ affectedRows?: number }>;
      // (The COMMIT of an update that matched nothing commits nothing.)
      this.checkWritten(written?.affectedRows);
      return;
    }
    const written = (await this.replica.run(statement.sql, statement.params, context, 'checkpoint')) as { affectedRows?: number };
    try {
      this.checkWritten(written.affectedRows);
    } catch (error) {
      await this.replica.query('ROLLBACK');
      throw error;
    }
    await this.replica.run(`${withIt.map((s) => s.sql).join(';\n')}; COMMIT`, withIt.flatMap((s) => s.params), context, 'checkpoint');
  }

  /** The session's new connection owns the stream now (a successor ends it when it takes over; see claimCheckpoint). */
  async ownConnection(): Promise<void> {
    if (this.epoch > 0) await this.write(ownerConnectionStatement(this.streamId, this.epoch), NO_CONTEXT);
  }

  /** Marks `statement` as started, committed before it runs (it commits on its own, so cannot with the position). */
  async markStarted(statement: string, context: ApplyContext): Promise<void> {
    await this.write(pendingDdlStatement(this.streamId, this.epoch, statement), context);
  }

  /**
   * Marks the source transaction being applied as changing tables the
   * replica cannot roll back (see non-transactional.ts), committed before
   * the first such change. `separately`: over a connection of its own, as
   * the apply connection holds the transaction's first rows, uncommitted.
   */
  async markNonTransactional(mark: string, context: ApplyContext, separately: boolean): Promise<void> {
    const statement = nonTransactionalStatement(this.streamId, this.epoch, mark);
    if (!separately) return this.write(statement, context);
    const [written] = (await this.replica.runSeparately(`${statement.sql}; COMMIT`, statement.params)) as Array<{ affectedRows?: number }>;
    this.checkWritten(written?.affectedRows);
  }

  /** The mark of a transaction interrupted after it changed such tables (null: none). */
  nonTransactionalMark(): Promise<string | null> {
    return readNonTransactionalMark(this.replica.current, this.streamId);
  }

  /** Whether `statement` was marked as started before a restart; asked once. */
  startedBefore(statement: string): boolean {
    const again = this.started === statement;
    this.started = null;
    return again;
  }

  /** The note that an XA transaction's prepare group was passed (prepared here, or none of its rows ours). */
  xaPending(xid: string, prepared: boolean, gtid: string | null): CheckpointStatement {
    return xaPendingStatement(this.streamId, xid, prepared, gtid);
  }

  /** Forgets an XA transaction, with the checkpoint of the group that ended it. */
  xaDone(xid: string): CheckpointStatement {
    return xaDoneStatement(this.streamId, xid);
  }

  /** What the replica knows of an XA transaction (null: its prepare group was never passed here). */
  readXaPending(xid: string): Promise<{ prepared: boolean } | null> {
    return readXaPending(this.replica.current, this.streamId, xid);
  }
}
