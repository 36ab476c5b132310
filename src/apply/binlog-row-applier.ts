// The BINLOG path of a rows event (see row-applier.ts): its bytes, with its
// statement's table maps, join the BINLOG statement being built while they
// may (binlog-rows.ts says when), and the replica applies them with its own
// row code, as its replica threads would. Foreign key checks follow the
// event's own flag there, and the server restores the session's settings
// after each BINLOG statement.
import { CarefulRetryError, ApplyError, TransientApplyError } from '../errors.js';
import { ER_SPECIFIC_ACCESS_DENIED, type DriverError } from '../db/server-errors.js';
import type { RowChange } from '../source/events.js';
import { binlogStatement, binlogStatementBytes } from '../binlog/event-bytes.js';
import { QueryBuffers } from '../db/large-query.js';
import { BINLOG_BATCH_BYTES, binlogBatch } from './binlog-rows.js';
import { describeContext, locationOf, serverErrno } from './apply-errors.js';
import type { ApplyConnection, ReplicaConnection } from './replica-connection.js';
import type { Buffered } from './statement-buffer.js';
import type { RowApplier, StatementLabel } from './row-applier.js';

const NO_PARAMS: unknown[] = [];

/** Can't find record: a row event's row is not on the replica. */
const ER_KEY_NOT_FOUND = 1032;
/**
 * The replica writes a binlog of its own in STATEMENT format, which cannot
 * log row events (ER_BINLOG_ROW_INJECTION_AND_STMT_MODE): the SQL path can.
 */
const ER_ROW_INJECTION_IN_STATEMENT_FORMAT = 1664;

/** The run's BINLOG statements capability (see capabilities.ts). */
export interface BinlogStatementsCapability {
  readonly binlogStatements: boolean;
  disable(capability: 'binlogStatements', reason: string, level?: 'warn' | 'info'): void;
}

export class BinlogRowApplier implements RowApplier {
  /** The source's format description, as the BINLOG statement a connection must read before any rows events. */
  private format: Buffer | undefined;
  /** The connection that has read it. */
  private formatOn: ApplyConnection | undefined;
  /** Buffers for the statements' bytes: as many as may be on their way at once, and one being built. */
  private readonly buffers = new QueryBuffers(4, binlogStatementBytes(BINLOG_BATCH_BYTES));

  constructor(
    private readonly replica: ReplicaConnection,
    private readonly capabilities: BinlogStatementsCapability,
  ) {}

  /** The binlog being read has this format description (the stream starts with it, and each new file). */
  setFormat(event: Uint8Array): void {
    this.format = binlogStatement([event]);
    this.formatOn = undefined;
  }

  /** Throws unless a rows event may go as bytes now (the run still sends BINLOG statements, the format is known). */
  checkReady(): void {
    if (!this.capabilities.binlogStatements) {
      // The stream still sends events this run no longer sends as such: start it again, decoding them.
      throw new CarefulRetryError('BINLOG statements are off for this run; streaming again with the rows decoded');
    }
    if (this.format === undefined) throw new Error("internal: a rows event came before the binlog's format description");
  }

  build(change: RowChange, label: StatementLabel): Buffered[] {
    const rows = change.binlog;
    if (!rows) throw new Error('internal: a rows event without its bytes reached the BINLOG path');
    this.checkReady();
    return [{ sql: '', params: NO_PARAMS, binlog: binlogBatch(rows, change.statementEnd === true), context: label.context, kind: label.kind, table: label.table, event: label.event }];
  }

  connectionReplaced(): void {
    this.formatOn = undefined;
  }

  /**
   * Sends a BINLOG statement, after the format description the connection
   * has not read yet (queued in order at once: the hand-over lets the next
   * batch go as soon as this returns its promise).
   */
  async send(b: Buffered): Promise<void> {
    const batch = b.binlog!;
    const current = this.replica.current;
    const format = this.formatOn === current ? undefined : this.replica.run(this.format!, [], b.context, 'format');
    this.formatOn = current;
    const text = binlogStatement(batch.events, this.buffers);
    batch.events = [];
    const applied = this.replica.run(text, [], b.context, b.kind, b.table);
    // (Answered, or its connection gone: nothing reads its buffer any more.)
    applied.then(
      () => this.buffers.give(text),
      () => this.buffers.give(text),
    );
    try {
      await format;
    } catch (error) {
      this.formatOn = undefined;
      await applied.catch(() => undefined);
      throw error;
    }
    try {
      await applied;
    } catch (error) {
      throw this.failure(error, b, batch.count);
    }
  }

  /** What a failed BINLOG statement means, said as the SQL path would say it where it can. */
  private failure(error: unknown, b: Buffered, events: number): unknown {
    const errno = serverErrno(error);
    if (errno === ER_SPECIFIC_ACCESS_DENIED || errno === ER_ROW_INJECTION_IN_STATEMENT_FORMAT) {
      this.capabilities.disable('binlogStatements', `the replica refused a BINLOG statement (${(error as Error).message}); applying row events as SQL statements`);
      return new CarefulRetryError('the replica refused a BINLOG statement; applying row events as SQL statements', { cause: error });
    }
    // Which of its events failed (and so where), the next session tells, one event per statement.
    if (events > 1 && !(error instanceof TransientApplyError)) {
      const said = (error as { cause?: DriverError }).cause?.sqlMessage ?? (error as Error).message;
      return new CarefulRetryError('a rows event of a BINLOG statement failed; applying them one at a time', {
        cause: new ApplyError(`one of ${events} rows events applied together (from ${b.table} on) failed on the replica: ${said} (error ${errno})`, { cause: error }),
      });
    }
    if (errno === ER_KEY_NOT_FOUND) {
      return new ApplyError(
        `the row to ${b.kind} in ${b.table} is not on the replica (the replica has drifted from the source) ` +
          `at ${describeContext(b.context)}; repair the row on the replica and start again, or pass this transaction with \`binlog-sync skip\``,
        { cause: (error as Error).cause ?? error, location: locationOf(b.context, b.table ?? null, b.kind) },
      );
    }
    return error;
  }
}
