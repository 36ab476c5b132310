// The replica transaction on its way out. Its statements wait in a
// StatementBuffer and go in batches through the HandOverPipeline, a few ahead
// of their answers, so the replica executes while the next batch is built; a
// group is sealed by handing over its position and COMMIT behind them. In
// careful mode (apply-mode.ts) every batch and every commit is awaited
// instead, so the error seen is the first.
import type { BinlogRows } from '../source/events.js';
import type { ApplyModeView } from './apply-mode.js';
import { NO_CONTEXT } from './apply-errors.js';
import type { BatchSender } from './batch-sender.js';
import type { CheckpointWriter } from './checkpoint-writer.js';
import { HandOverPipeline } from './pipeline.js';
import type { ReplicaConnection } from './replica-connection.js';
import { ReplicaTransaction } from './replica-transaction.js';
import { StatementBuffer, buffered, estimateBytes, type Buffered } from './statement-buffer.js';
import type { XaApplier } from './xa-applier.js';

/** Batches sent ahead of their answers: enough to keep the replica busy while the next is built. */
const PIPELINE_DEPTH = 3;
/** A batch from this size goes out alone (nothing else on its way): memory holds one large statement at a time, not PIPELINE_DEPTH. */
const LARGE_BATCH_BYTES = 8 * 1024 * 1024;

export interface TransactionSenderParts {
  replica: ReplicaConnection;
  /** Writes the position a sealed group commits with. */
  checkpoint: CheckpointWriter;
  /** Says how a replica transaction starts (XA START inside an XA prepare group). */
  xa: XaApplier;
  /** Sends each batch and checks its answers. */
  batches: BatchSender;
  mode: ApplyModeView;
  /** See ApplierOptions.onLargeInFlight. */
  onLargeInFlight: ((bytes: number) => void) | undefined;
}

export class TransactionSender {
  /** The replica transaction being built (statements may already be on their way), as named states (replica-transaction.ts). */
  readonly txn = new ReplicaTransaction();
  readonly pipeline = new HandOverPipeline();
  private readonly buffer = new StatementBuffer();

  constructor(private readonly parts: TransactionSenderParts) {}

  /** A change of the source transaction being applied: the replica transaction is open from here on. */
  ensureTransaction(): void {
    // autocommit is off: the first statement opens the replica transaction (an XA one with XA START).
    if (!this.txn.change()) return;
    const start = this.parts.xa.startStatement;
    if (start) this.buffer.add(buffered({ sql: start, params: [] }, { context: NO_CONTEXT, kind: 'xa' }));
  }

  /** Joins a rows event's bytes to the BINLOG statement being built (see StatementBuffer.joinRows). */
  joinRows(rows: BinlogRows, statementEnd: boolean): boolean {
    return this.buffer.joinRows(rows, statementEnd);
  }

  /** Statements join the open replica transaction; they go with the next drain. */
  take(statements: Buffered[]): void {
    for (const statement of statements) {
      this.hold(statement);
      this.buffer.add(statement);
    }
  }

  /** Queues a statement; careful mode runs it at once, batching hands over full batches only. */
  async send(statement: Buffered): Promise<void> {
    this.buffer.add(statement);
    await this.drainIfDue();
  }

  drainIfDue(): Promise<void> | undefined {
    if (!this.parts.mode.grouped) return this.drain(true);
    return this.buffer.ready ? this.drain(false) : undefined;
  }

  /**
   * Hands buffered statements to the driver, several per round trip, without
   * waiting for the answers (their row counts are checked as they come). At
   * most PIPELINE_DEPTH pieces of work are on their way at once; in careful
   * mode each batch is awaited, so its error is the first.
   */
  async drain(complete: boolean): Promise<void> {
    if (this.buffer.length === 0) return;
    const unit = this.txn.unit;
    if (!unit) {
      this.buffer.clear(); // statements outside a transaction are never buffered
      return;
    }
    const careful = !this.parts.mode.grouped;
    for (const batch of this.buffer.take(complete)) {
      // A batch of large rows waits for those before it: each is held in memory until the server has it.
      const large = batch.reduce((n, b) => n + estimateBytes(b), 0) >= LARGE_BATCH_BYTES;
      await this.pipeline.awaitWork(careful || large ? 0 : PIPELINE_DEPTH - 1);
      this.pipeline.throwIfFailed();
      const handed = this.pipeline.handOver(unit.transactions, async (hand) => {
        try {
          const answered = this.parts.batches.send(batch);
          hand();
          await answered;
        } finally {
          this.release(batch);
        }
      });
      unit.batches.push(handed);
    }
    if (careful) {
      await this.pipeline.awaitWork(0);
      this.pipeline.throwIfFailed();
    }
  }

  /** Hands over what is buffered, then the COMMIT (pipelined: see pipeline.ts), or what ends the transaction instead. */
  async seal(end = 'COMMIT'): Promise<void> {
    const unit = this.txn.unit!;
    if (unit.last) {
      const { action, context } = unit.last;
      const { sql, params } = this.parts.checkpoint.position(action.position, action.timestamp, action.streamSeq ?? null);
      this.buffer.add(buffered({ sql, params, expectRows: 1 }, { context, kind: 'checkpoint' }));
    }
    await this.drain(true);
    this.txn.seal();
    this.pipeline.commit(unit.transactions, unit.batches, () => this.parts.replica.run(end, [], NO_CONTEXT, 'commit'), unit.onDurable);
    if (!this.parts.mode.grouped) await this.idle();
  }

  /** Seals a group of deferred transactions; true when there was one. */
  async flush(): Promise<boolean> {
    // Never in the middle of a source transaction: its rows must not commit without its end.
    if (this.txn.name !== 'between') return false;
    await this.seal();
    return true;
  }

  /** Waits until everything handed over has answered and every sealed commit is durable; throws the failure. */
  async idle(): Promise<void> {
    await this.drain(true);
    await this.pipeline.idle();
  }

  /**
   * Forgets what was never sent and waits for what was; true when the replica
   * may hold an open transaction to roll back (a failed one may be open even
   * when no new one is being built).
   */
  async reset(): Promise<boolean> {
    this.buffer.clear();
    const failed = await this.pipeline.reset();
    const open = this.txn.unit !== undefined || failed;
    this.txn.reset();
    return open;
  }

  /**
   * A large row holds the stream back from the moment it is taken in until
   * its batch has answered (release): the next large rows are not decoded
   * meanwhile, each being in memory until the server has it. It never waits
   * for more input to be sent (a full batch goes at once: see
   * StatementBuffer.take), so holding cannot stall the stream. A session that
   * fails lets go of everything with its queue.
   */
  private hold(statement: Buffered): void {
    const bytes = estimateBytes(statement);
    if (bytes < LARGE_BATCH_BYTES || !this.parts.onLargeInFlight) return;
    statement.held = bytes;
    this.parts.onLargeInFlight(bytes);
  }

  private release(batch: Buffered[]): void {
    for (const b of batch) {
      if (!b.held) continue;
      this.parts.onLargeInFlight?.(-b.held);
      b.held = 0;
    }
  }
}
