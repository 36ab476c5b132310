// The two ways a rows event reaches the replica, behind one face: a
// RowApplier turns one rows event into statements for the statement buffer
// (which joins and batches them; the TransactionSender sends them in its
// transaction). Chosen per event (row-paths.ts), by how it arrived from the
// source:
//
// - BinlogRowApplier (binlog-row-applier.ts): the event's own bytes, applied
//   by the replica's row code in a BINLOG statement. The normal path.
// - SqlRowApplier (here): SQL statements built from the decoded rows, for
//   what the BINLOG path cannot carry: masked columns, a replica whose user
//   lacks the privilege or that cannot read the source's events, very large
//   events (see row-routes.ts and binlog-source.ts).
import type { ApplyModeView } from './apply-mode.js';
import type { RowChange } from '../source/events.js';
import { batchStatements, type BatchingOptions } from '../sql/prepare.js';
import { buildRowChange } from '../sql/statements.js';
import { ReplicaHistory, buildVersionedChange, mayBeSystemVersioned, type Versioning } from '../sql/versioning.js';
import { NO_CONTEXT } from './apply-errors.js';
import { buffered, type ApplyContext, type Buffered } from './statement-buffer.js';
import type { SqlConnection } from './checkpoint.js';

/** What the statements of one rows event are labelled with (their errors name it). */
export interface StatementLabel {
  context: ApplyContext;
  kind: RowChange['kind'];
  /** `db.table` as on the replica. */
  table: string;
  /** Numbers the rows event in the session (a batch knows how many it spans). */
  event: number;
}

/** How a rows event's statements are to be built. */
export interface BuildOptions {
  /**
   * One statement per row or event, as careful mode builds them, whatever
   * the mode: no LOAD DATA and no set-based statement, which may fail where
   * the source did not (for tables the replica cannot roll back, see
   * non-transactional.ts).
   */
  oneByOne?: boolean;
}

export interface RowApplier {
  /** The statements that apply one rows event, in order, labelled for the buffer (at once where nothing is to be asked). */
  build(change: RowChange, label: StatementLabel, options?: BuildOptions): Buffered[] | Promise<Buffered[]>;
  /** The session went on over a new connection: what the old one held (its settings) is gone. */
  connectionReplaced(): void;
}

/** SQL statements built from decoded rows (here, or ahead on the decoding thread). */
export class SqlRowApplier implements RowApplier {
  /** The session's foreign_key_checks as this path last set it. */
  private foreignKeyChecks = true;
  /** Per replica table: where its system-versioning period is, or null; known until the next DDL. */
  private readonly versioned = new Map<string, Versioning | null>();
  /** History rows the replica wrote itself in this source transaction (see versioning.ts). */
  private readonly history = new ReplicaHistory();

  constructor(
    /** For the replica's table definitions (system versioning). */
    private readonly replica: SqlConnection,
    private readonly flavor: BatchingOptions['flavor'],
    private readonly mode: ApplyModeView,
    /** How set-based statements may be built now (LOAD DATA may be lost during a run). */
    private readonly batching: () => BatchingOptions,
  ) {}

  async build(change: RowChange, label: StatementLabel, options: BuildOptions = {}): Promise<Buffered[]> {
    const out: Buffered[] = [];
    // As the source session had them: with checks on, the replica's own
    // foreign keys cascade the child rows the binlog does not carry.
    const checks = !change.noForeignKeyChecks;
    if (this.foreignKeyChecks !== checks) {
      this.foreignKeyChecks = checks;
      out.push(buffered({ sql: `SET SESSION foreign_key_checks = ${checks ? 1 : 0}`, params: [] }, { context: NO_CONTEXT, kind: 'session' }));
    }
    const grouped = this.mode.grouped;
    // Statements built ahead are set-based: careful mode must build its own, row by row.
    if (change.prepared && !grouped) throw new Error('internal: a prepared rows event reached the applier in careful mode');
    if (change.prepared) {
      // (Their LOAD DATA bytes arrive as Buffers: see threaded-source.ts.)
      // (The event lets go of its prepared values: the statements hold them, until their query is built.)
      for (const s of change.prepared.statements) {
        // (A table that cannot roll back joins no other transaction's rows: see non-transactional.ts.)
        const statement = options.oneByOne && s.keyList ? { ...s, keyList: undefined } : s;
        out.push(buffered(statement as Omit<typeof s, 'load'> & { load?: Buffer }, label));
        delete s.blobs;
      }
      return out;
    }
    const versioning = await this.versioningOf(change.table);
    const statements = versioning
      ? buildVersionedChange(change, versioning, this.history)
      : grouped && !options.oneByOne
        ? batchStatements(change, this.batching())
        : buildRowChange(change, { setBased: false, flavor: this.flavor });
    for (const s of statements) out.push(buffered(s, label));
    return out;
  }

  connectionReplaced(): void {
    this.foreignKeyChecks = true;
  }

  /** A DDL ran: table definitions may have changed, and the DDL session left foreign key checks off. */
  afterDdl(): void {
    this.versioned.clear();
    this.foreignKeyChecks = false;
  }

  /** The source transaction ended (committed or rolled back). */
  transactionEnded(): void {
    this.history.clear();
  }

  /** The replica table's system-versioning period, when it has one (asked once per table until the next DDL). */
  private async versioningOf(table: RowChange['table']): Promise<Versioning | null> {
    if (this.flavor !== 'mariadb' || !mayBeSystemVersioned(table)) return null;
    const name = `${table.database}.${table.table}`;
    let versioning = this.versioned.get(name);
    if (versioning === undefined) {
      const [rows] = (await this.replica.query(
        `SELECT t.TABLE_TYPE AS type, c.COLUMN_NAME AS name, c.GENERATION_EXPRESSION AS expr FROM information_schema.TABLES t
         LEFT JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME AND c.GENERATION_EXPRESSION IN ('ROW START', 'ROW END')
         WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ?`,
        [table.database, table.table],
      )) as [Array<{ type: string; name: string | null; expr: string | null }>, unknown];
      versioning = null;
      if (rows[0]?.type === 'SYSTEM VERSIONED') {
        // Implicit periods (WITH SYSTEM VERSIONING alone) are row_start/row_end, hidden from information_schema.
        const startName = rows.find((r) => r.expr === 'ROW START')?.name ?? 'row_start';
        const endName = rows.find((r) => r.expr === 'ROW END')?.name ?? 'row_end';
        const start = table.columns.findIndex((c) => c.name === startName);
        const end = table.columns.findIndex((c) => c.name === endName);
        if (start >= 0 && end >= 0) versioning = { start, end };
      }
      this.versioned.set(name, versioning);
    }
    return versioning;
  }
}
