// How a source transaction's commit ends on the replica. Consecutive source
// transactions may share one replica transaction (a group, never a part of
// one) that also writes the position of the last of them (checkpoint.ts), so
// a crash at any instant leaves both or neither. A group grows only while more
// transactions wait and the mode is grouped; a transaction that changed a
// table the replica cannot roll back is committed alone (non-transactional.ts).
import type { ApplyAction } from '../txn/assembler.js';
import type { ApplyModeView } from './apply-mode.js';
import type { CheckpointStatement } from './checkpoint.js';
import type { CheckpointWriter } from './checkpoint-writer.js';
import type { Unit } from './replica-transaction.js';
import type { ApplyContext } from './statement-buffer.js';
import type { TransactionSender } from './transaction-sender.js';
import type { XaApplier } from './xa-applier.js';

/**
 * A group takes no more transactions once it holds this many (or rows, or
 * has been open this long): a large or slow transaction is committed at its
 * own end, not held open with whatever comes after it (which may be slow to
 * apply, and would be redone with it after a failure).
 */
const GROUP_LIMIT = 500;
const GROUP_ROWS = 10_000;
const GROUP_OPEN_MS = 1_000;

/** How a source commit ended on the replica, and how many rows its transaction changed there. */
export interface CommitResult {
  /**
   * 'committed': its replica transaction was sealed; 'deferred': it joined a
   * group, sealed later; 'none': it touched nothing on the replica.
   */
  outcome: 'committed' | 'deferred' | 'none';
  rows: number;
}

export interface CommitOptions {
  context: ApplyContext;
  /** More transactions wait: the commit may join a group (only when the mode is grouped). */
  deferrable: boolean;
  /** Records the position once the commit is durable (in source order). */
  onDurable: () => void;
}

type CommitAction = Extract<ApplyAction, { type: 'commit' }>;

export class CommitGroups {
  constructor(
    private readonly out: TransactionSender,
    private readonly checkpoint: CheckpointWriter,
    private readonly xa: XaApplier,
    private readonly mode: ApplyModeView,
  ) {}

  /**
   * Its position joins its rows in the same replica transaction: sealed now,
   * or deferred into a group when more transactions wait. `rows`: what the
   * transaction changed; `alone`: it may join no group (its checkpoint clears
   * its non-transactional mark, durable before anything after it is applied).
   */
  commit(action: CommitAction, options: CommitOptions, rows: number, alone: boolean): CommitResult | Promise<CommitResult> {
    if (action.xa !== undefined) return this.commitXaPrepare(action, options, rows);
    const { txn } = this.out;
    if (txn.unit) {
      // Also when this transaction changed nothing of ours: it is counted in the group.
      // Only the group's last position is written, as the group is sealed.
      this.out.ensureTransaction();
      const unit = txn.sourceCommitted();
      unit.last = { action, context: options.context };
      unit.onDurable = options.onDurable;
      unit.rows += rows;
      if (options.deferrable && this.mode.grouped && this.mayGrow(unit) && !alone) return { outcome: 'deferred', rows };
      return this.out
        .seal()
        .then(() => (alone ? this.out.idle() : undefined))
        .then(() => ({ outcome: 'committed', rows }));
    }
    if (txn.name === 'ran-alone') return this.commitAfterDdl(this.checkpoint.position(action.position, action.timestamp, action.streamSeq ?? null), options, rows);
    // Nothing written: the position is as durable as everything before it.
    this.out.pipeline.afterDurable(options.onDurable);
    return { outcome: 'none', rows };
  }

  /** After a DDL (or an XA COMMIT/ROLLBACK): records its position (and clears the started-DDL mark) on its own. */
  private async commitAfterDdl(checkpoint: CheckpointStatement, options: CommitOptions, rows: number): Promise<CommitResult> {
    await this.checkpoint.write(checkpoint, options.context, this.xa.takeEnded());
    this.out.txn.recorded();
    options.onDurable();
    return { outcome: 'committed', rows };
  }

  private mayGrow(unit: Unit): boolean {
    return unit.transactions < GROUP_LIMIT && unit.rows < GROUP_ROWS && performance.now() - unit.openedAt < GROUP_OPEN_MS;
  }

  /**
   * The end of an XA prepare group: the replica's XA transaction, when any
   * of its rows were ours, is ended and prepared as a group of its own (see
   * xa-applier.ts); the position is recorded after it.
   */
  private async commitXaPrepare(action: CommitAction, options: CommitOptions, rows: number): Promise<CommitResult> {
    const prepareOpen = this.out.txn.unit
      ? async (end: string) => {
          this.out.txn.sourceCommitted();
          await this.out.seal(end);
          await this.out.idle();
        }
      : undefined;
    await this.xa.prepare(action.xa!, action.gtid, this.checkpoint.position(action.position, action.timestamp, action.streamSeq ?? null), options.context, prepareOpen);
    options.onDurable();
    return { outcome: 'committed', rows };
  }
}
