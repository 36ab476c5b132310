// The binlog as the rest of binlog-sync sees it: small typed events, produced
// by the zongji adapter (binlog-source.ts) and consumed by the pure
// transaction assembler (txn/). Nothing outside source/ knows zongji's shapes.
import type { TextEncoding } from '../sql/client-text.js';
import type { KeyList } from '../sql/key-list.js';

/** How a column's values travel from the binlog to the replica. */
export type ColumnKind =
  /** Values as decoded (numbers, exact strings, Buffers), escaped into the statement text as they are. */
  | 'plain'
  /** Text in a non-UTF-8 character set: raw bytes, re-labelled with CONVERT(? USING cs). */
  | 'raw-text'
  /** Spatial value: the server's internal bytes (SRID + WKB), inserted as they are. */
  | 'geometry'
  /** TIMESTAMP: UTC strings; epoch 0 is the zero timestamp. */
  | 'timestamp'
  /** UTF-8 text (utf8mb3, utf8mb4): a string, or its bytes where they are not valid UTF-8 (see row-values.ts). */
  | 'text'
  /** ENUM: its index (0 for the error value ''), a number, as the server stores it. */
  | 'enum'
  /** SET: its bits, a number (a BigInt past 2^53), as the server stores it. */
  | 'set'
  /** TIME: strings; zongji's negative whole seconds made right (see row-values.ts). */
  | 'time'
  /** BIT: written as bytes, compared as a number when it locates a row. */
  | 'bit'
  /** YEAR: zongji reads the zero year 0000 as 1900 (which YEAR cannot hold). */
  | 'year'
  /** FLOAT: read back over the text protocol as the DOUBLE it widens to (snapshot, verify). */
  | 'float';

export interface ColumnDef {
  name: string;
  kind: ColumnKind;
  /** Character set of raw-text columns (e.g. latin1). */
  charset?: string;
  /**
   * Character data compared under a collation (CHAR, VARCHAR, TEXT of any
   * non-binary character set): values its collation calls equal ('abc',
   * 'ABC', 'abc ', 'äbc') can differ in bytes, so a row is located by its
   * bytes too (see locateText in sql/statements.ts).
   */
  collated?: boolean;
  /** Fractional digits of a TIMESTAMP column (a system-versioning period is two TIMESTAMP(6) columns). */
  decimals?: number;
  /** The type as COLUMN_TYPE spells it (`varchar(64)`, `int unsigned`): what a masked value must fit (see mask/). */
  sqlType?: string;
  /** Character set of a text column (absent for binary and non-text columns): for masking. */
  characterSet?: string;
  /** Collation of a text column: `hash` folds what it calls equal (letter case, trailing spaces). */
  collation?: string;
  /** A TIME of before MariaDB 10.0, stored as the decimal HHMMSS (see row-values.ts). */
  hhmmss?: boolean;
  /** A hidden column (MariaDB's long unique hash, DB_ROW_HASH_n: see hidden-columns.ts): never written nor compared. */
  hidden?: boolean;
}

export interface TableDef {
  database: string;
  table: string;
  columns: ColumnDef[];
  /** Indexes of the primary key columns; empty when the table has none. */
  primaryKey: number[];
}

/** One row image: values by column index; `undefined` marks a column absent from the image. */
export type RowImage = unknown[];

export interface EventHeader {
  /** Binlog file the event is in. */
  file: string;
  /** Offset just after the event (0 inside MariaDB 11.4+ transactions). */
  nextPosition: number;
  /** Source time the event was written (ms since epoch, second resolution). */
  timestamp: number;
}

export type RowsKind = 'insert' | 'update' | 'delete';

/**
 * On an event that may end a transaction (XID, a COMMIT or DDL query, an XA
 * prepare): the sequence of the relay stream's message whose transaction it
 * ends (its last part), when read from a relay's stream (`start --from`, see
 * stream-transport.ts). Absent for events read from a source or files.
 */
export interface StreamEnd {
  streamSeq?: number;
}

/** The rows of one rows event, and how to read them. */
export interface RowsData {
  kind: RowsKind;
  table: TableDef;
  /** Per column: present in the (before) image. */
  present: boolean[];
  /** Per column: present in the after image (updates only). */
  presentAfter?: boolean[];
  /** Inserts and deletes: one image each; updates: before and after. */
  rows: Array<{ before?: RowImage; after?: RowImage }>;
  /** The source session had foreign_key_checks=0. */
  noForeignKeyChecks: boolean;
  /** The last rows event of its statement (a statement's rows are split into events by size). */
  statementEnd?: boolean;
  /**
   * The statements that apply the rows, already built with their values in
   * the text (by the decoding thread, see decode-thread.ts); `rows` is then
   * empty. Never in careful mode, which builds one statement per row itself.
   */
  prepared?: PreparedRows;
  /**
   * The rows as binlog events, for the replica to apply itself (see
   * apply/binlog-rows.ts); `rows` is then empty: nothing here reads them.
   */
  binlog?: BinlogRows;
}

/**
 * A rows event as bytes, and what the replica needs with it: the table map
 * events of its statement (of replicated tables only, named as on the
 * replica), which must come first in the same BINLOG statement.
 */
export interface BinlogRows {
  /** The table maps of its statement, one after the other (shared by the statement's rows events). */
  head: Uint8Array;
  /** The rows event itself. */
  event: Uint8Array;
  /** Numbers the source statement (a new one after each statement end), so events of one share their table maps. */
  statement: number;
  /** How many rows it carries. */
  rows: number;
}

/**
 * A rows event that goes as its bytes, with every column in its images,
 * described where it lies (its packet) instead of as an event object: the
 * stream fills one such object again for every event, for a consumer that
 * copies what it needs before it returns (see BinlogSourceOptions.onRowsInPlace).
 */
export interface RowsInPlace {
  kind: RowsKind;
  table: TableDef;
  /** The event's size less header and checksum, as SourceEvent's `bytes`. */
  bytes: number;
  noForeignKeyChecks: boolean;
  statementEnd: boolean;
  file: string;
  nextPosition: number;
  timestamp: number;
  /** Its statement's table maps, its statement's number, and how many rows it carries (as BinlogRows). */
  head: Uint8Array;
  statement: number;
  rows: number;
  /** The whole event: packet[start, end). */
  packet: Buffer;
  start: number;
  end: number;
}

/** A rows event as it is applied: its table named as on the replica (database rewritten by --rewrite-db). */
export type RowChange = RowsData;

/** Rows applied by statements built ahead: their texts (values inline) and how many rows they carry. */
export interface PreparedRows {
  statements: Array<{ sql: string; blobs?: Uint8Array[]; expectRows?: number; setBased?: boolean; load?: Uint8Array; insertHead?: string; keyList?: KeyList }>;
  rows: number;
}

/** An XA transaction id as the XA statements write it: X'gtrid',X'bqual',formatID. */
export function xidLiteral(gtrid: Uint8Array, bqual: Uint8Array, formatId: number): string {
  return `X'${Buffer.from(gtrid).toString('hex')}',X'${Buffer.from(bqual).toString('hex')}',${formatId}`;
}

/** Every column present (FULL row images, the common case), shared per column count; never mutated. */
const ALL_PRESENT = new Map<number, boolean[]>();

/** Present flags of every one of `count` columns: one frozen array per count, shared. */
export function allPresent(count: number): boolean[] {
  let flags = ALL_PRESENT.get(count);
  if (!flags) ALL_PRESENT.set(count, (flags = Object.freeze(new Array<boolean>(count).fill(true)) as boolean[]));
  return flags;
}

/** How many rows a rows event carries, prepared or not. */
export function rowCount(data: Pick<RowsData, 'rows' | 'prepared' | 'binlog'>): number {
  return data.prepared ? data.prepared.rows : data.binlog ? data.binlog.rows : data.rows.length;
}

export type SourceEvent =
  | { type: 'rotate'; file: string; position: number }
  /** The format description event of the binlog being read (normalised: see binlog/event-bytes.ts), for BINLOG statements. */
  | { type: 'format'; event: Uint8Array }
  | ({
      type: 'gtid';
      gtid: string;
      /** MariaDB's GTID event of a transaction stands for its BEGIN; MySQL's (and standalone DDL's) does not. */
      impliesBegin: boolean;
      /**
       * MariaDB logs an XA transaction as two event groups: one that
       * prepares it (its rows, ended by an XA_PREPARE event) and one that
       * commits or rolls it back. `xid` is the transaction's id as an SQL
       * literal (`X'gtrid',X'bqual',formatID`).
       */
      xa?: { phase: 'prepare' | 'complete'; xid: string };
    } & EventHeader)
  | ({
      type: 'query';
      sql: string;
      /** The session's default database. */
      database: string;
      /** The session's sql_mode as a number, when it could be read. */
      sqlMode?: bigint;
      /** The session had foreign_key_checks=0. */
      noForeignKeyChecks?: boolean;
      /** The session's time zone, when the statement used it. */
      timeZone?: string;
      /** Microseconds of the statement's time (its seconds are the header's timestamp), when the source wrote them. */
      microseconds?: number;
      /** The session's character set and collations, as collation ids (see status-vars.ts). */
      charset?: { client: number; connection: number; server: number };
      /** The name of the session's character_set_client, when the source's collations are known. */
      clientCharset?: string;
      /** How `sql` becomes the bytes the source session wrote (sql/client-text.ts); absent for UTF-8. */
      encoding?: TextEncoding;
      /** The account the statement ran as, when the source wrote it (see status-vars.ts). */
      invoker?: { user: string; host: string };
      /**
       * The error the statement ended with on the source, when it did part of
       * its work all the same (a DROP VIEW of two views, one missing) and was
       * logged with it.
       */
      errorCode?: number;
    } & EventHeader &
      StreamEnd)
  | ({
      type: 'rows';
      /** Size of the event in the binlog, in bytes (what its rows weigh in memory, roughly). */
      bytes: number;
    } & RowsData &
      EventHeader)
  | ({ type: 'xid' } & EventHeader & StreamEnd)
  /** The end of an XA transaction's prepare group (MariaDB XA_PREPARE_LOG_EVENT). */
  | ({ type: 'xa-prepare'; xid: string; onePhase: boolean } & EventHeader & StreamEnd)
  | { type: 'heartbeat'; file: string; position: number }
  | ({ type: 'unsupported'; what: string } & EventHeader);
