// Pure: source events in, apply actions out. Finds each source transaction's
// boundaries (GTID/BEGIN ... rows ... XID/COMMIT, or a standalone DDL), keeps
// only the replicated databases and tables, renames databases for
// --rewrite-db, and stamps each commit with the position to resume after it.
// It never sees a server; the replicator feeds it and carries out its actions.
import type { BinlogPosition } from '../position.js';
import type { RowChange, SourceEvent, TableDef } from '../source/events.js';
import { classifyStatement, restrictToTables, rewriteDatabases, type ResolvedTable, type StatementInfo } from './ddl.js';
import { targetTables, type ReplicationFilter } from './filter.js';
import { MariadbGtidState } from './gtid-position.js';
import type { LexerOptions } from './sql-lexer.js';

export type ApplyAction =
  | { type: 'begin'; gtid: string | null; timestamp: number }
  | { type: 'rows'; change: RowChange }
  /** SAVEPOINT / ROLLBACK TO SAVEPOINT inside a transaction, passed through. */
  | { type: 'statement'; sql: string }
  | {
      type: 'ddl';
      sql: string;
      /** Default database to run it in (already rewritten), when it has one on the replica. */
      database: string | undefined;
      sqlMode: bigint | undefined;
      /** The source session's time zone, when the statement used it (e.g. to convert or default a TIMESTAMP). */
      timeZone: string | undefined;
      /** The statement's time on the source (what NOW(6) gave there). */
      time: StatementTime;
      verb: string;
      targets: string[];
    }
  | { type: 'commit'; position: BinlogPosition; timestamp: number; gtid: string | null }
  | { type: 'rollback' }
  /** A statement we log and leave out (not replicated, or only partly ours). */
  | { type: 'skipped-statement'; sql: string; reason: string }
  /** A DDL statement whose names we could not read: the replicator stops on it. */
  | { type: 'unparsable-statement'; sql: string; reason: string }
  | { type: 'unsupported'; what: string; file: string; position: number };

/** A statement's time: seconds since the epoch, and microseconds (0 when the source did not write them). */
export interface StatementTime {
  seconds: number;
  microseconds: number;
}

/** The context a Query event's statement ran in on the source, carried to where it is applied. */
type QueryContext = Pick<Extract<SourceEvent, { type: 'query' }>, 'database' | 'sqlMode' | 'timeZone' | 'microseconds' | 'timestamp'>;

export interface AssemblerOptions {
  filter: ReplicationFilter;
  /** Where the stream starts (file known from the stored position, or from the first rotate). */
  start: BinlogPosition;
  /** True when `start.gtid` is the source's full GTID state, so it can be kept up to date. */
  gtidKnown: boolean;
}

const ANSI_QUOTES = 1n << 2n;
const NO_BACKSLASH_ESCAPES = 1n << 20n;

/** How the session's sql_mode changes the way its statements are tokenised. */
function lexerOptions(sqlMode: bigint | undefined): LexerOptions {
  if (sqlMode === undefined) return {};
  return { ansiQuotes: (sqlMode & ANSI_QUOTES) !== 0n, backslashEscapes: (sqlMode & NO_BACKSLASH_ESCAPES) === 0n };
}

const TRANSACTION_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK|XA\s|SAVEPOINT\s|ROLLBACK\s+TO\s|RELEASE\s+SAVEPOINT\s)/i;

export class TransactionAssembler {
  private file: string | null;
  private inTransaction = false;
  private readonly targetOf: (table: TableDef) => TableDef | null;
  private currentGtid: string | null = null;
  private readonly gtidState: MariadbGtidState | null;

  constructor(private readonly options: AssemblerOptions) {
    this.file = options.start.file;
    this.targetOf = targetTables(options.filter);
    this.gtidState = options.gtidKnown ? MariadbGtidState.parse(options.start.gtid ?? '') : null;
  }

  /** Actions for one event, in order. */
  push(event: SourceEvent): ApplyAction[] {
    switch (event.type) {
      case 'rotate':
        this.file = event.file;
        return [];
      case 'heartbeat':
        return [];
      case 'gtid':
        this.currentGtid = event.gtid;
        return event.impliesBegin ? this.begin(event.timestamp) : [];
      case 'query':
        return this.query(event);
      case 'rows':
        return this.rows(event);
      case 'xid':
        return this.commit(event.nextPosition, event.timestamp);
      case 'unsupported':
        return [{ type: 'unsupported', what: event.what, file: event.file, position: event.nextPosition }];
    }
  }

  private begin(timestamp: number): ApplyAction[] {
    if (this.inTransaction) return [];
    this.inTransaction = true;
    return [{ type: 'begin', gtid: this.currentGtid, timestamp }];
  }

  private commit(nextPosition: number, timestamp: number): ApplyAction[] {
    const actions: ApplyAction[] = this.inTransaction ? [] : this.begin(timestamp);
    this.inTransaction = false;
    const gtid = this.currentGtid;
    if (gtid && this.gtidState) this.gtidState.add(gtid);
    this.currentGtid = null;
    // A MariaDB 11.4+ commit inside a transaction may carry end_log_pos 0: never a resume point.
    const position: BinlogPosition = {
      file: nextPosition > 0 ? this.file : null,
      position: nextPosition > 0 ? nextPosition : null,
      gtid: this.gtidState ? this.gtidState.toString() : null,
    };
    actions.push({ type: 'commit', position, timestamp, gtid });
    return actions;
  }

  private query(event: Extract<SourceEvent, { type: 'query' }>): ApplyAction[] {
    const sql = event.sql.trim();
    const head = sql.slice(0, 30).toUpperCase();
    if (/^(BEGIN|START\s+TRANSACTION)\b/.test(head)) return this.begin(event.timestamp);
    if (/^COMMIT\b/.test(head)) return this.commit(event.nextPosition, event.timestamp);
    if (/^ROLLBACK\s*$/.test(head) || /^ROLLBACK\s*;?$/.test(sql.toUpperCase())) {
      this.inTransaction = false;
      this.currentGtid = null;
      return [{ type: 'rollback' }];
    }
    if (this.inTransaction && TRANSACTION_CONTROL.test(sql)) return [{ type: 'statement', sql }];

    // Inside a transaction (MariaDB's CREATE TABLE ... SELECT logs the CREATE
    // there): the statement runs in line and the transaction goes on.
    if (this.inTransaction) return this.statement(sql, event);
    // Otherwise it is a unit of its own (DDL commits implicitly) with its own resume point.
    return [
      ...this.begin(event.timestamp),
      ...this.statement(sql, event),
      ...this.commit(event.nextPosition, event.timestamp),
    ];
  }

  private statement(sql: string, context: QueryContext): ApplyAction[] {
    const { database: defaultDatabase, sqlMode } = context;
    const { filter } = this.options;
    const lexer = lexerOptions(sqlMode);
    const info: StatementInfo = classifyStatement(sql, defaultDatabase || undefined, lexer);
    switch (info.kind) {
      case 'unparsable':
        // A DDL we recognise but cannot follow must not be skipped quietly.
        return [{ type: 'unparsable-statement', sql, reason: info.reason }];
      case 'ignored':
        return [{ type: 'skipped-statement', sql, reason: info.reason }];
    }

    let text = sql;
    let targets: string[];
    if (info.scope === 'database') {
      if (!filter.replicatesDatabase(info.database)) return [{ type: 'skipped-statement', sql, reason: 'database not replicated' }];
      targets = [info.database];
    } else {
      const replicated = (t: ResolvedTable): boolean => t.database !== undefined && filter.replicatesTable(t.database, t.table);
      const ours = info.tables.filter(replicated);
      if (ours.length === 0) return [{ type: 'skipped-statement', sql, reason: 'tables not replicated' }];
      if (ours.length < info.tables.length) {
        const restricted = restrictToTables(sql, info, replicated, lexer);
        if (restricted === undefined) {
          return [{ type: 'skipped-statement', sql, reason: 'statement mixes replicated and other tables' }];
        }
        text = restricted;
      }
      targets = ours.map((t) => `${t.database}.${t.table}`);
    }
    const rewritten = rewriteDatabases(text, (db) => filter.targetDatabase(db), lexer);
    // Statements about a database name it themselves (and their default database
    // may not exist yet on the replica); table statements run in the default database.
    const database =
      info.scope === 'table' && defaultDatabase && filter.replicatesDatabase(defaultDatabase)
        ? filter.targetDatabase(defaultDatabase)
        : undefined;
    const time = { seconds: Math.floor(context.timestamp / 1000), microseconds: context.microseconds ?? 0 };
    return [{ type: 'ddl', sql: rewritten, database, sqlMode, timeZone: context.timeZone, time, verb: info.verb, targets }];
  }

  private rows(event: Extract<SourceEvent, { type: 'rows' }>): ApplyAction[] {
    const actions = this.begin(event.timestamp);
    const table = this.targetOf(event.table);
    if (!table) return actions;
    actions.push({
      type: 'rows',
      change: {
        kind: event.kind,
        table,
        present: event.present,
        ...(event.presentAfter ? { presentAfter: event.presentAfter } : {}),
        rows: event.rows,
        noForeignKeyChecks: event.noForeignKeyChecks,
        ...(event.prepared ? { prepared: event.prepared } : {}),
      },
    });
    return actions;
  }
}
