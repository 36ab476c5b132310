// What classifyStatement (classify.ts) tells the assembler about a Query
// event's statement: names resolved against the session's default database,
// so that filters and --rewrite-db can decide without parsing again.

export interface ResolvedTable {
  /** The qualified database, else the session's default one (undefined when neither). */
  database: string | undefined;
  table: string;
}

/** One `from TO to` of a RENAME TABLE (or ALTER TABLE ... RENAME), in statement order. */
export interface TableRename {
  from: ResolvedTable;
  to: ResolvedTable;
}

/** The kinds of stored object that are replicated besides tables and views. */
export type RoutineOrEvent = 'PROCEDURE' | 'FUNCTION' | 'EVENT';

export type StatementInfo =
  | {
      kind: 'ddl';
      scope: 'table';
      verb: string;
      /** Every table the statement changes (both sides of a rename). */
      tables: ResolvedTable[];
      /** RENAME TABLE and ALTER TABLE ... RENAME: what moves where, in order. */
      renames?: TableRename[];
      /** RENAME TABLE IF EXISTS / ALTER TABLE IF EXISTS. */
      ifExists?: true;
      /** CREATE TABLE ... LIKE: the table whose definition is copied (only read). */
      like?: ResolvedTable;
    }
  /** `unnamed`: the statement names no database (`ALTER DATABASE DEFAULT CHARACTER SET ...`), it is about the default one. */
  | { kind: 'ddl'; scope: 'database'; verb: string; database: string; unnamed?: true }
  /**
   * A stored routine or event: DDL of its database (its qualified one, else
   * the session's default). A view is a 'table' statement: it is filtered
   * and named like a table.
   */
  | { kind: 'ddl'; scope: 'object'; verb: string; type: RoutineOrEvent; objects: ResolvedTable[] }
  /** A kind of statement that is safe to skip wherever it is (users, grants, settings, ...): `reason` says which. */
  | { kind: 'ignored'; reason: string }
  /**
   * A statement binlog-sync does not replicate and cannot call harmless
   * (`INSERT` logged as a statement, ...): `databases` are
   * the ones it may touch: the default one and the first part of every
   * qualified name (over-approximated: `alias.column` counts too).
   */
  | { kind: 'other'; statement: string; databases: string[] }
  /** A DDL recognised by its first words whose rest we could not follow (it must not be skipped quietly). */
  | { kind: 'unparsable'; reason: string };
