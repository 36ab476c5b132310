// A rows event into the open replica transaction, by the one of the two row
// paths (see row-applier.ts) it came for: with its bytes (BINLOG statements)
// or decoded (SQL statements). Which paths the stream may use follows the
// run's capabilities, found out as the session connects (the BINLOG
// privilege, local_infile) and lost for the rest of the run once the replica
// refuses one.
import type { ApplierCapabilities } from '../capabilities.js';
import { rowCount, type RowChange } from '../source/events.js';
import type { BatchingOptions } from '../sql/prepare.js';
import type { ApplyModeView } from './apply-mode.js';
import { binlogGrant, binlogRefusal } from './binlog-privilege.js';
import { BinlogRowApplier } from './binlog-row-applier.js';
import type { ApplyConnection, ReplicaConnection, ReplicaInfo } from './replica-connection.js';
import { SqlRowApplier } from './row-applier.js';
import type { ApplyContext, Buffered } from './statement-buffer.js';
import type { TransactionSender } from './transaction-sender.js';

/** Why row events cannot go as BINLOG statements on this connection, as the log says it; undefined when they can. */
async function binlogStatementsRefused(conn: ApplyConnection, flavor: BatchingOptions['flavor']): Promise<string | undefined> {
  const refusal = await binlogRefusal(conn);
  if (!refusal) return undefined;
  if (refusal.reason === 'privilege') {
    return (
      `the replica's user may not send BINLOG statements (it needs ${binlogGrant(flavor)}); row events are applied as SQL statements instead, ` +
      `which is slower to catch up (docs/replication.md, two row paths): GRANT ${binlogGrant(flavor)} ON *.* TO the replica's user to let the replica apply them itself`
    );
  }
  return `the replica refused a BINLOG statement (${refusal.message}); row events are applied as SQL statements instead`;
}

/**
 * Turns off what a new session's replica cannot take: LOAD DATA without
 * local_infile, BINLOG statements (asked only when the run would use them)
 * without the privilege.
 */
export async function fitCapabilities(conn: ApplyConnection, info: ReplicaInfo, capabilities: ApplierCapabilities, askBinlog: boolean): Promise<void> {
  if (!info.localInfile) capabilities.disable('loadData', 'the replica has local_infile off; large inserts go as INSERT statements', 'info');
  if (askBinlog) {
    const refusal = await binlogStatementsRefused(conn, info.flavor);
    if (refusal) capabilities.disable('binlogStatements', refusal);
  }
}

export class RowPaths {
  readonly sql: SqlRowApplier;
  readonly binlog: BinlogRowApplier;
  /** Numbers the rows events, so a batch knows how many it spans. */
  private events = 0;
  /** Rows the current source transaction changed so far (reported with its commit). */
  private changedRows = 0;

  constructor(
    private readonly replica: ReplicaConnection,
    private readonly flavor: BatchingOptions['flavor'],
    mode: ApplyModeView,
    private readonly capabilities: ApplierCapabilities,
    /** Told the table (as on the replica) of rows applied as SQL statements while BINLOG statements are on. */
    private readonly onSqlPath: ((table: string) => void) | undefined,
  ) {
    this.sql = new SqlRowApplier(replica, flavor, mode, () => this.batchingOptions);
    this.binlog = new BinlogRowApplier(replica, capabilities);
    replica.onReplaced(() => {
      this.sql.connectionReplaced();
      this.binlog.connectionReplaced();
    });
  }

  /** How set-based statements may be built for this replica now (LOAD DATA may be lost during a run). */
  get batchingOptions(): BatchingOptions {
    return { flavor: this.flavor, loadData: this.capabilities.loadData };
  }

  /**
   * A rows event's statements, by the path it came for, join the open
   * replica transaction (`out`); `oneByOne`: see BuildOptions.
   */
  add(change: RowChange, context: ApplyContext, oneByOne: boolean, out: TransactionSender): Promise<void> | undefined {
    out.ensureTransaction();
    if (change.binlog) {
      this.binlog.checkReady();
      // Most rows events join the BINLOG statement being built: nothing to make for them.
      if (out.joinRows(change.binlog, change.statementEnd === true)) {
        this.events++;
        this.changedRows += change.binlog.rows;
        return out.drainIfDue();
      }
    }
    const label = { context, kind: change.kind, table: `${change.table.database}.${change.table.table}`, event: ++this.events };
    if (!change.binlog && this.capabilities.binlogStatements) this.onSqlPath?.(label.table);
    const built = (change.binlog ? this.binlog : this.sql).build(change, label, { oneByOne });
    if (built instanceof Promise || built.some((statement) => this.replica.measures(statement))) return this.takeMeasured(built, change, out);
    this.take(built, change, out);
    return out.drainIfDue();
  }

  /** The source transaction ended (committed or rolled back): the rows it changed. */
  transactionEnded(): number {
    const rows = this.changedRows;
    this.changedRows = 0;
    this.sql.transactionEnded();
    return rows;
  }

  /** Statements built by asking the replica, or large enough to be measured against its packet limit first. */
  private async takeMeasured(built: Buffered[] | Promise<Buffered[]>, change: RowChange, out: TransactionSender): Promise<void> {
    const statements = await built;
    for (const statement of statements) await this.replica.checkFits(statement);
    this.take(statements, change, out);
    await out.drainIfDue();
  }

  private take(statements: Buffered[], change: RowChange, out: TransactionSender): void {
    out.take(statements);
    this.changedRows += rowCount(change);
  }
}
