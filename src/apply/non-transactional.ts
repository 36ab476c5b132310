// Tables the replica cannot roll back (MyISAM, Aria, MEMORY, CSV, ...).
// Every retry of binlog-sync rolls the replica transaction back and applies
// its source transactions again: a careful retry after a failed group, a
// lost connection, a deadlock, a restart. A non-transactional table keeps
// what the first attempt wrote, so the second would write it twice. So a
// source transaction that changes such a table (as the replica has it) is
// applied so that nothing makes it fail spuriously once it has changed one,
// and never again after it has (see NonTransactionalGuard):
//
// - its rows of such tables are built one statement per row or event (no
//   LOAD DATA, whose warnings roll back, no set-based statement that may
//   clash where the source's row order did not);
// - before its first change of such a table, everything before it has
//   answered (a failure there is retried as usual) and it stands alone in
//   its replica transaction (the group before it is committed), and a mark
//   naming it is committed in binlog-sync's checkpoint row;
// - its own checkpoint clears the mark, atomically with its other rows, and
//   it is committed at its end, never grouped with what follows.
//
// A mark found when a session starts means the transaction was interrupted
// after it changed such a table (whatever the cause: an error, a lost
// connection, a kill): it is not applied again; `start` stops and says so
// (InterruptedNonTransactionalError), as the server's own replica does not
// retry such a transaction either.
import { ApplyError, CarefulRetryError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { formatPosition, type BinlogPosition } from '../position.js';
import type { RowChange } from '../source/events.js';
import { describeContext } from './apply-errors.js';
import type { SqlConnection } from './checkpoint.js';
import type { CheckpointWriter } from './checkpoint-writer.js';
import type { ApplyContext } from './statement-buffer.js';
import type { TransactionSender } from './transaction-sender.js';

/** The replica's storage engine of each table, when it cannot roll back; asked once per table until the next DDL. */
export class ReplicaEngines {
  /** `db.table` → its engine when it is not transactional, null when it is (or the table is not there). */
  private readonly engines = new Map<string, string | null>();
  /** The same, by the table's own object (one per table for the stream: see targetTables), without a name made per event. */
  private byTable = new WeakMap<object, string | null>();

  constructor(private readonly replica: SqlConnection) {}

  /**
   * The table's engine when the replica cannot roll back its changes, null
   * when it can; undefined when not known yet (ask). At once: asked for every
   * rows event.
   */
  known(table: { database: string; table: string }): string | null | undefined {
    const cached = this.byTable.get(table);
    if (cached !== undefined) return cached;
    const engine = this.engines.get(`${table.database}.${table.table}`);
    if (engine !== undefined) this.byTable.set(table, engine);
    return engine;
  }

  /** Asks the replica what known() tells from then on. */
  async ask(table: { database: string; table: string }): Promise<string | null> {
    const name = `${table.database}.${table.table}`;
    let engine = this.engines.get(name);
    if (engine === undefined) {
      // information_schema.ENGINES says which engines take part in transactions (InnoDB: YES; MyISAM, Aria, MEMORY: NO).
      const [rows] = (await this.replica.query(
        `SELECT t.ENGINE AS engine, e.TRANSACTIONS AS transactions FROM information_schema.TABLES t
           LEFT JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE
          WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ?`,
        [table.database, table.table],
      )) as [Array<{ engine: string | null; transactions: string | null }>, unknown];
      const row = rows[0];
      engine = row?.engine && row.transactions !== 'YES' ? row.engine : null;
      this.engines.set(name, engine);
    }
    return engine;
  }

  /** A DDL ran: a table may have been created, or its engine changed. */
  clear(): void {
    this.engines.clear();
    this.byTable = new WeakMap();
  }
}

/** The rules above, for the source transaction being applied. */
export class NonTransactionalGuard {
  /**
   * The mark of the source transaction being applied once it has changed a
   * table the replica cannot roll back: it is committed alone, and never
   * applied again after a failure.
   */
  private marked: string | undefined;

  constructor(
    private readonly out: TransactionSender,
    private readonly checkpoint: CheckpointWriter,
    private readonly logger: Logger,
    /** Told each table (as on the replica) found not to be transactional there: its rows are built here from then on. */
    private readonly onNonTransactional: ((table: string) => void) | undefined,
  ) {}

  /** The source transaction being applied has changed a table the replica cannot roll back. */
  get changing(): boolean {
    return this.marked !== undefined;
  }

  /**
   * Before a change of a table the replica cannot roll back: from here on,
   * this source transaction must not fail spuriously, and is never applied
   * again. Everything before it has answered first, and the group before it
   * is committed, so that a failure up to here is still retried as usual and
   * the mark names the transaction right after the stored position.
   */
  async before(change: RowChange, engine: string, context: ApplyContext): Promise<void> {
    const table = `${change.table.database}.${change.table.table}`;
    this.onNonTransactional?.(table);
    // Built ahead as LOAD DATA or set-based statements, which may fail where the
    // source did not: applied carefully instead, before anything of the table is sent.
    if (change.prepared?.statements.some((s) => s.load !== undefined || s.setBased === true)) {
      throw new CarefulRetryError(`rows of ${table} (${engine}: changes cannot be rolled back on the replica) were built many at once; applying them one at a time`);
    }
    const { txn, pipeline } = this.out;
    if (txn.deferred > 0) {
      // Rows of this transaction are in the group's replica transaction already: it cannot commit without them.
      if (txn.name === 'changing') throw new CarefulRetryError(`a transaction in a group changes ${table} (${engine}: changes cannot be rolled back on the replica); applying them one at a time`);
      // The group before it: committed and durable first.
      await this.out.flush();
      await this.out.idle();
    } else {
      // Its own statements so far: answered first.
      await this.out.drain(true);
      await pipeline.awaitWork(0);
      pipeline.throwIfFailed();
    }
    const mark = nonTransactionalMark(describeContext(context), table, engine);
    // (Its first rows may be in the open replica transaction already: then the mark commits over a connection of its own.)
    await this.checkpoint.markNonTransactional(mark, context, txn.unit !== undefined);
    this.marked = mark;
    this.logger.debug({ ...context, table, engine }, 'a transaction changes a table the replica cannot roll back: applied alone, never again');
  }

  /**
   * The source transaction ended (committed or rolled back); true when it had
   * a mark. A mark committed stays on the replica until its transaction's
   * checkpoint clears it: a rollback leaves it for the next session to find.
   */
  transactionEnded(): boolean {
    const marked = this.marked !== undefined;
    this.marked = undefined;
    return marked;
  }
}

/** A source transaction changed a table the replica cannot roll back, and was interrupted before it committed. */
export class InterruptedNonTransactionalError extends ApplyError {
  override readonly code = 'NON_TRANSACTIONAL_INTERRUPTED';
}

/** What the mark says: the transaction and the first table the replica cannot roll back. */
export function nonTransactionalMark(where: string, table: string, engine: string): string {
  return `${where}: ${table} (${engine})`;
}

/** Why `start` does not apply the transaction after `stored` again, and the ways on. */
export function interruptedError(mark: string, stored: BinlogPosition | null): InterruptedNonTransactionalError {
  const after = stored ? formatPosition(stored) : 'the stored position';
  return new InterruptedNonTransactionalError(
    `the transaction after ${after} (${mark}) changed a table the replica cannot roll back and was interrupted before it committed ` +
      '(the log says why): what it changed there stays, and applying it again would apply that twice. Check that table on the replica ' +
      '(it may hold part of the transaction), then pass the transaction with `binlog-sync skip`; or restore the table as it was before ' +
      `the transaction and apply it again with \`binlog-sync position set\` to ${after}; or seed again with \`binlog-sync snapshot --drop-existing\``,
    { location: { gtid: null, file: stored?.file ?? null, position: stored?.position ?? null, table: null, statement: 'non-transactional' } },
  );
}
