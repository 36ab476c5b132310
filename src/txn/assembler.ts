// Pure: source events in, apply actions out. Finds each source transaction's
// boundaries (GTID/BEGIN ... rows ... XID/COMMIT, or a standalone DDL), keeps
// only the replicated databases and tables, renames databases for
// --rewrite-db, and stamps each commit with the position to resume after it.
// It never sees a server; the replicator feeds it and carries out its actions.
import type { BinlogPosition } from '../position.js';
import type { RowChange, SourceEvent, TableDef } from '../source/events.js';
import { classifyStatement } from './ddl/classify.js';
import { replaceCreateTableName, restrictToTables, rewriteDatabases, rewriteObject } from './ddl/rewrite.js';
import type { ResolvedTable, StatementInfo } from './ddl/statement-info.js';
import { quoteIdentifier } from '../sql/identifiers.js';
import { CHECKPOINT_DATABASE, targetTables, type ReplicationFilter } from './filter.js';
import { MariadbGtidState } from './gtid-position.js';
import { MysqlGtidSet } from './mysql-gtid-set.js';
import type { LexerOptions } from './sql-lexer.js';
import type { TextEncoding } from '../sql/client-text.js';

export type ApplyAction =
  /** The format description of the binlog being read: the replica reads BINLOG statements' events with it. */
  | { type: 'format'; event: Uint8Array }
  /** `xa`: the group prepares the XA transaction of that id (see XaEnd). */
  | { type: 'begin'; gtid: string | null; timestamp: number; xa?: string }
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
      /**
       * The source session's character set and collations (collation ids),
       * set for the statement as the server's own replica sets them: a view
       * or routine keeps its character_set_client and collation_connection,
       * CREATE DATABASE takes collation_server.
       */
      charset?: { client: number; connection: number; server: number };
      /** The name of character_set_client (which takes a name, or the id of its character set's default collation only). */
      clientCharset?: string;
      /** How `sql` becomes the bytes the source session wrote (sql/client-text.ts); absent for UTF-8. */
      encoding?: TextEncoding;
      /** The source session's foreign_key_checks, when the event says (see session-context.ts). */
      foreignKeyChecks?: boolean;
      verb: string;
      targets: string[];
      /**
       * The error the statement ended with on the source, which did part of
       * its work all the same: the replica's same error is its success, as
       * on the server's own replica.
       */
      expectedError?: number;
      /**
       * Helper statements run before and after `sql` (a table renamed out of
       * the replicated databases is moved aside and dropped). Each is safe to
       * run again after a crash.
       */
      before?: string[];
      after?: string[];
      /**
       * CREATE TABLE ... LIKE a table the replica does not have: `sql` reads
       * LIKE_SOURCE_TABLE, which the apply loop creates first from this source
       * table's definition (read from the source).
       */
      likeSource?: { database: string; table: string };
    }
  /**
   * `xa`: the end of an XA prepare group (the transaction is prepared, not
   * committed, on the source). `streamSeq`: the relay stream's message the
   * transaction came in (`start --from`), checkpointed with its position.
   */
  | { type: 'commit'; position: BinlogPosition; timestamp: number; gtid: string | null; xa?: string; streamSeq?: number }
  /** The group that commits or rolls back an XA transaction prepared by an earlier group. */
  | { type: 'xa-end'; verb: 'COMMIT' | 'ROLLBACK'; xid: string }
  | { type: 'rollback' }
  /** A statement we log and leave out (not replicated, or only partly ours). */
  | { type: 'skipped-statement'; sql: string; reason: string }
  /**
   * A statement that may touch the replicated databases but that we cannot
   * apply faithfully: the replicator stops on it, saying why and what to do.
   */
  | { type: 'refused-statement'; sql: string; reason: string; remedy: string }
  | { type: 'unsupported'; what: string; file: string; position: number };

/** A statement's time: seconds since the epoch, and microseconds (0 when the source did not write them). */
export interface StatementTime {
  seconds: number;
  microseconds: number;
}

/** The context a Query event's statement ran in on the source, carried to where it is applied. */
type DdlAction = Extract<ApplyAction, { type: 'ddl' }>;
type QueryContext = Pick<Extract<SourceEvent, { type: 'query' }>, 'database' | 'sqlMode' | 'timeZone' | 'microseconds' | 'timestamp' | 'charset' | 'clientCharset' | 'encoding' | 'noForeignKeyChecks' | 'invoker' | 'errorCode'>;

/** The time zone and time a DDL runs under on the replica: its source session's. */
function statementContext(context: QueryContext): Pick<DdlAction, 'timeZone' | 'time' | 'charset' | 'clientCharset' | 'encoding' | 'foreignKeyChecks'> {
  return {
    timeZone: context.timeZone,
    time: { seconds: Math.floor(context.timestamp / 1000), microseconds: context.microseconds ?? 0 },
    ...(context.charset ? { charset: context.charset } : {}),
    ...(context.clientCharset ? { clientCharset: context.clientCharset } : {}),
    ...(context.encoding ? { encoding: context.encoding } : {}),
    ...(context.noForeignKeyChecks !== undefined ? { foreignKeyChecks: !context.noForeignKeyChecks } : {}),
  };
}

export interface AssemblerOptions {
  filter: ReplicationFilter;
  /** Where the stream starts (file known from the stored position, or from the first rotate). */
  start: BinlogPosition;
  /** True when `start.gtid` is the source's full GTID state, so it can be kept up to date. */
  gtidKnown: boolean;
  /** Which state `start.gtid` is: a MariaDB GTID position (the default) or a MySQL GTID set. */
  gtidFlavor?: 'mariadb' | 'mysql';
  /** `'user'@'host'` to put as DEFINER of views, routines and events (--definer); default: the source's. */
  definer?: string | undefined;
}

/** Where a table renamed out of the replicated databases waits (on the replica) to be dropped. */
const RENAMED_OUT_TABLE = 'renamed_out_';

/** The copy of a CREATE TABLE ... LIKE source that the replica does not have. */
export const LIKE_SOURCE_TABLE = { database: CHECKPOINT_DATABASE, table: 'create_like_source' };

/** The way out of a stop on a statement we cannot follow. */
export const APPLY_BY_HAND = 'apply it on the replica by hand, then `binlog-sync skip`';
const SEED_AGAIN =
  'seed the replica again with `binlog-sync snapshot --drop-existing` (same --databases, filters and --state), then `binlog-sync start`';

const ANSI_QUOTES = 1n << 2n;
/** MariaDB's MSSQL mode ([name] quotes a name); the bit is unused on MySQL 8. */
const MSSQL = 1n << 10n;
const NO_BACKSLASH_ESCAPES = 1n << 20n;

/** How the session's sql_mode changes the way its statements are tokenised. */
export function lexerOptions(sqlMode: bigint | undefined): LexerOptions {
  if (sqlMode === undefined) return {};
  return { ansiQuotes: (sqlMode & ANSI_QUOTES) !== 0n, backslashEscapes: (sqlMode & NO_BACKSLASH_ESCAPES) === 0n, bracketQuotes: (sqlMode & MSSQL) !== 0n };
}

/**
 * No actions: one shared, frozen array (push() runs for every event, and an
 * empty array that is never added to is still an allocation).
 */
const NONE: ApplyAction[] = Object.freeze([]) as unknown as ApplyAction[];

const TRANSACTION_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK|XA\s|SAVEPOINT\s|ROLLBACK\s+TO\s|RELEASE\s+SAVEPOINT\s)/i;

export class TransactionAssembler {
  private file: string | null;
  private inTransaction = false;
  private readonly targetOf: (table: TableDef) => TableDef | null;
  private currentGtid: string | null = null;
  /** The XA transaction the current event group prepares or ends. */
  private xa: { phase: 'prepare' | 'complete'; xid: string } | undefined;
  private readonly gtidState: MariadbGtidState | MysqlGtidSet | null;

  constructor(private readonly options: AssemblerOptions) {
    this.file = options.start.file;
    this.targetOf = targetTables(options.filter);
    const known = options.start.gtid ?? '';
    this.gtidState = !options.gtidKnown ? null : options.gtidFlavor === 'mysql' ? MysqlGtidSet.parse(known) : MariadbGtidState.parse(known);
  }

  /** Actions for one event, in order. */
  push(event: SourceEvent): ApplyAction[] {
    switch (event.type) {
      case 'rotate':
        this.file = event.file;
        return NONE;
      case 'format':
        return [{ type: 'format', event: event.event }];
      case 'heartbeat':
        return NONE;
      case 'gtid':
        this.currentGtid = event.gtid;
        this.xa = event.xa;
        return event.impliesBegin ? this.begin(event.timestamp) : NONE;
      case 'query':
        return this.query(event);
      case 'rows':
        return this.rows(event);
      case 'xid':
        return this.commit(event.nextPosition, event.timestamp, undefined, event.streamSeq);
      case 'xa-prepare':
        // One-phase XA commits are logged as plain transactions; a prepare ends its group prepared.
        return this.commit(event.nextPosition, event.timestamp, event.onePhase ? undefined : event.xid, event.streamSeq);
      case 'unsupported':
        return [{ type: 'unsupported', what: event.what, file: event.file, position: event.nextPosition }];
    }
  }

  private begin(timestamp: number): ApplyAction[] {
    const begin = this.beginAction(timestamp);
    return begin ? [begin] : NONE;
  }

  /** The transaction's begin, unless it has begun already. */
  private beginAction(timestamp: number): ApplyAction | undefined {
    if (this.inTransaction) return undefined;
    this.inTransaction = true;
    const begin: Extract<ApplyAction, { type: 'begin' }> = { type: 'begin', gtid: this.currentGtid, timestamp };
    if (this.xa?.phase === 'prepare') begin.xa = this.xa.xid;
    return begin;
  }

  private commit(nextPosition: number, timestamp: number, xaPrepared?: string, streamSeq?: number): ApplyAction[] {
    const begin = this.beginAction(timestamp);
    this.inTransaction = false;
    const gtid = this.currentGtid;
    if (gtid && this.gtidState) this.gtidState.add(gtid);
    this.currentGtid = null;
    this.xa = undefined;
    // A MariaDB 11.4+ commit inside a transaction may carry end_log_pos 0: never a resume point.
    const position: BinlogPosition = {
      file: nextPosition > 0 ? this.file : null,
      position: nextPosition > 0 ? nextPosition : null,
      gtid: this.gtidState ? this.gtidState.toString() : null,
    };
    const commit: Extract<ApplyAction, { type: 'commit' }> = { type: 'commit', position, timestamp, gtid };
    if (xaPrepared) commit.xa = xaPrepared;
    if (streamSeq !== undefined) commit.streamSeq = streamSeq;
    return begin ? [begin, commit] : [commit];
  }

  private query(event: Extract<SourceEvent, { type: 'query' }>): ApplyAction[] {
    const sql = event.sql.trim();
    const head = sql.slice(0, 30).toUpperCase();
    if (/^(BEGIN|START\s+TRANSACTION)\b/.test(head)) return this.begin(event.timestamp);
    if (/^COMMIT\b/.test(head)) return this.commit(event.nextPosition, event.timestamp, undefined, event.streamSeq);
    if (/^ROLLBACK\s*$/.test(head) || /^ROLLBACK\s*;?$/.test(sql.toUpperCase())) {
      this.inTransaction = false;
      this.currentGtid = null;
      return [{ type: 'rollback' }];
    }
    // An XA group: the applier starts, ends, prepares, commits or rolls back the XA transaction itself.
    if (this.xa?.phase === 'prepare' && /^XA\s+(START|BEGIN|END)\b/.test(head)) return [];
    if (this.xa?.phase === 'complete' && /^XA\s+(COMMIT|ROLLBACK)\b/.test(head)) {
      const verb = /^XA\s+COMMIT\b/.test(head) ? 'COMMIT' : 'ROLLBACK';
      return [...this.begin(event.timestamp), { type: 'xa-end', verb, xid: this.xa.xid }, ...this.commit(event.nextPosition, event.timestamp, undefined, event.streamSeq)];
    }
    if (this.inTransaction && TRANSACTION_CONTROL.test(sql)) return [{ type: 'statement', sql }];

    // Inside a transaction (MariaDB's CREATE TABLE ... SELECT logs the CREATE
    // there): the statement runs in line and the transaction goes on.
    if (this.inTransaction) return this.statement(sql, event);
    // Otherwise it is a unit of its own (DDL commits implicitly) with its own resume point.
    return [
      ...this.begin(event.timestamp),
      ...this.statement(sql, event),
      ...this.commit(event.nextPosition, event.timestamp, undefined, event.streamSeq),
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
        return [refused(sql, `cannot tell which tables it changes: ${info.reason}`, APPLY_BY_HAND)];
      case 'ignored':
        return [{ type: 'skipped-statement', sql, reason: info.reason }];
      case 'other':
        if (!info.databases.some((db) => filter.replicatesDatabase(db))) {
          return [{ type: 'skipped-statement', sql, reason: `${info.statement} outside the replicated databases` }];
        }
        return [refused(sql, `binlog-sync does not apply ${info.statement} statements`, APPLY_BY_HAND)];
    }

    let text = sql;
    let targets: string[];
    let extra: Pick<Extract<ApplyAction, { type: 'ddl' }>, 'before' | 'after' | 'likeSource'> = {};
    if (info.scope === 'database') {
      if (!filter.replicatesDatabase(info.database)) return [{ type: 'skipped-statement', sql, reason: 'database not replicated' }];
      targets = [info.database];
    } else if (info.scope === 'object') {
      // A routine or event belongs to its database (only DROP VIEW names several objects, and a view is a table here).
      const ours = info.objects.filter((o) => filter.replicatesDatabase(o.database!));
      if (ours.length === 0) return [{ type: 'skipped-statement', sql, reason: 'database not replicated' }];
      targets = ours.map((o) => `${o.database}.${o.table}`);
    } else {
      const replicated = (t: ResolvedTable): boolean => t.database !== undefined && filter.replicatesTable(t.database, t.table);
      const ours = info.tables.filter(replicated);
      if (ours.length === 0) return [{ type: 'skipped-statement', sql, reason: 'tables not replicated' }];
      targets = ours.map((t) => `${t.database}.${t.table}`);
      if (ours.length < info.tables.length) {
        if (info.renames) return this.crossingRename(sql, info, replicated, context);
        const restricted = restrictToTables(sql, info, replicated, lexer);
        if (restricted === undefined) {
          // EXCHANGE PARTITION with a table we do not have: rows move in or out unseen.
          return [refused(sql, `it moves rows between ${targets.join(', ')} and a table that is not replicated`, SEED_AGAIN)];
        }
        text = restricted;
      }
      if (info.like && !replicated(info.like)) {
        // The replica has no copy of the LIKE source: the apply loop makes one from the source's definition.
        const swapped = replaceCreateTableName(text, 'like', LIKE_SOURCE_TABLE, lexer);
        if (swapped === undefined || info.like.database === undefined) return [refused(sql, 'cannot find the table of its LIKE', APPLY_BY_HAND)];
        text = swapped;
        const helper = qualified(LIKE_SOURCE_TABLE);
        extra = { likeSource: { database: info.like.database, table: info.like.table }, after: [`DROP TABLE IF EXISTS ${helper}`] };
      }
    }
    const renamed = rewriteDatabases(text, (db) => filter.targetDatabase(db), lexer);
    // Views, routines and events: DEFINER as asked, events disabled as on the server's own replica.
    // An ALTER EVENT naming no DEFINER makes its runner the definer: the source's runner, not ours.
    const definer = this.options.definer ?? (context.invoker ? account(context.invoker) : undefined);
    const rewritten =
      info.scope === 'database'
        ? renamed
        : rewriteObject(renamed, { definer, onlyWhereMissing: this.options.definer === undefined, disableEvents: true }, lexer);
    // Statements about a database name it themselves (and their default database
    // may not exist yet on the replica), but for an ALTER DATABASE that names
    // none: it is about the default one, as are table statements.
    const database =
      (info.scope !== 'database' || info.unnamed) && defaultDatabase && filter.replicatesDatabase(defaultDatabase)
        ? filter.targetDatabase(defaultDatabase)
        : undefined;
    const failed = context.errorCode ? { expectedError: context.errorCode } : {};
    return [{ type: 'ddl', sql: rewritten, database, sqlMode, ...statementContext(context), verb: info.verb, targets, ...failed, ...extra }];
  }

  /**
   * A RENAME TABLE or ALTER TABLE ... RENAME whose tables cross the boundary
   * of the replicated ones. A table renamed out leaves the replica (as it
   * leaves the replicated databases on the server's own replica); one renamed
   * in brings rows the replica never had: stop, and say how to seed it.
   */
  private crossingRename(
    sql: string,
    info: Extract<StatementInfo, { kind: 'ddl'; scope: 'table' }>,
    replicated: (t: ResolvedTable) => boolean,
    context: QueryContext,
  ): ApplyAction[] {
    const { filter } = this.options;
    const renames = info.renames ?? [];
    const name = (t: ResolvedTable): string => `${t.database ?? '?'}.${t.table}`;
    const incoming = renames.find((r) => !replicated(r.from) && replicated(r.to));
    if (incoming) {
      return [
        refused(
          sql,
          `table ${name(incoming.to)} is renamed into the replicated tables from ${name(incoming.from)}, whose rows the replica does not have`,
          SEED_AGAIN,
        ),
      ];
    }
    const target = (t: ResolvedTable): string => qualified({ database: filter.targetDatabase(t.database!), table: t.table });
    const ifExists = info.ifExists ? 'IF EXISTS ' : '';
    const targets = renames.filter((r) => replicated(r.from)).map((r) => name(r.from));
    const base = { type: 'ddl' as const, database: undefined, sqlMode: context.sqlMode, ...statementContext(context), verb: info.verb, targets };
    if (info.verb === 'ALTER TABLE') {
      // Whatever else the ALTER changes, the table leaves the replicated ones.
      return [{ ...base, sql: `DROP TABLE ${ifExists}${target(renames[0]!.from)}` }];
    }
    // One RENAME on the replica, in the source's order: a table that leaves is
    // moved aside (its name may be taken by a later pair) and dropped after.
    const pairs: string[] = [];
    const aside: string[] = [];
    for (const r of renames) {
      if (!replicated(r.from)) continue; // neither side is ours (incoming ones stopped above)
      if (replicated(r.to)) {
        pairs.push(`${target(r.from)} TO ${target(r.to)}`);
      } else {
        const holder = qualified({ database: CHECKPOINT_DATABASE, table: `${RENAMED_OUT_TABLE}${aside.length + 1}` });
        aside.push(holder);
        pairs.push(`${target(r.from)} TO ${holder}`);
      }
    }
    // Dropped before too: after a crash between the RENAME and the DROP, the re-run finds them there.
    const drops = aside.map((holder) => `DROP TABLE IF EXISTS ${holder}`);
    return [{ ...base, sql: `RENAME TABLE ${ifExists}${pairs.join(', ')}`, before: drops, after: drops }];
  }

  private rows(event: Extract<SourceEvent, { type: 'rows' }>): ApplyAction[] {
    const begin = this.beginAction(event.timestamp);
    const table = this.targetOf(event.table);
    if (!table) return begin ? [begin] : NONE;
    // (Set one by one, not spread: this runs for every rows event.)
    const change: RowChange = { kind: event.kind, table, present: event.present, rows: event.rows, noForeignKeyChecks: event.noForeignKeyChecks };
    if (event.presentAfter) change.presentAfter = event.presentAfter;
    if (event.prepared) change.prepared = event.prepared;
    if (event.binlog) change.binlog = event.binlog;
    if (event.statementEnd) change.statementEnd = true;
    const rows: ApplyAction = { type: 'rows', change };
    return begin ? [begin, rows] : [rows];
  }
}

function refused(sql: string, reason: string, remedy: string): ApplyAction {
  return { type: 'refused-statement', sql, reason, remedy };
}

/** `` `user`@`host` `` as DEFINER takes it (backticks: the same under every sql_mode). */
function account(a: { user: string; host: string }): string {
  return `${quoteIdentifier(a.user)}@${quoteIdentifier(a.host)}`;
}

function qualified(t: { database: string; table: string }): string {
  return `${quoteIdentifier(t.database)}.${quoteIdentifier(t.table)}`;
}
