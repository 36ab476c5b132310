// The table definitions of the binlog being read, by table id, from its
// table map events (binlog_row_metadata=FULL), and how zongji must read
// each column so that its values round-trip (switchColumns). Each
// transaction maps its tables again; while a table map is the same as
// before, its definition is kept as it is, so what is derived from it
// (statement texts, row layouts) is reused.
import type { BinlogEventByTypeName, ColumnInfo, ColumnSchema, TableMapEntry } from '@vlasky/zongji';
import { COLUMN_TYPE } from '../binlog/column-types.js';
import { EVENT_HEADER_BYTES } from '../binlog/event-bytes.js';
import { rowsLayout, type ColumnLayout, type RowsLayout } from '../binlog/rows-count.js';
import type { Collations } from './collations.js';
import type { ColumnDef, ColumnKind, TableDef } from './events.js';
import { hiddenColumns } from './hidden-columns.js';
import { rawEvent } from './raw-events.js';

/** The collation id of binary strings (BINARY, VARBINARY, BLOB). */
const BINARY_COLLATION_ID = 63;

/** What zongji reads a column as instead (see switchColumns). */
type Switch = 'blob' | 'bytes' | 'varbinary' | 'number';

// Column types that need special handling (binlog/column-types.ts).
const TYPE = COLUMN_TYPE;

const TEXT_TYPES = new Set<number>([TYPE.VARCHAR, TYPE.VAR_STRING, TYPE.STRING]);
const BLOB_TYPES = new Set<number>([TYPE.TINY_BLOB, TYPE.MEDIUM_BLOB, TYPE.LONG_BLOB, TYPE.BLOB]);
const UTF8_CHARSETS = new Set(['utf8', 'utf8mb3', 'utf8mb4']);

/**
 * A table id's definition, and what it was derived from: each transaction
 * maps its tables again, and while a table map is the same as before (its
 * bytes, and what zongji looked up for it) all of this stays as it is.
 */
export interface KnownTable {
  table: TableDef;
  /** The table map's body (no header, no checksum): a copy. */
  body: Buffer;
  /** zongji's column schemas it was derived from (see sameSchemas), and its columns last seen. */
  schemas: ColumnSchema[];
  columns: ColumnInfo[];
  /** What was read of them, per column: name, type as first spelled, collation, character set. */
  read: Array<string | null | undefined>;
  /** zongji's columns to read as raw bytes or numbers (see switchColumns), set anew on every table map event. */
  switches: Array<{ index: number; to: Switch }>;
  /** How its rows are laid out, to count them without decoding (undefined: they cannot be sized so). */
  layout: RowsLayout | undefined;
  /** Where its rows go as binlog events, named as on the replica; null when they go decoded (asked once). */
  binlogTarget?: TableDef | null;
}

export class TableDefinitions {
  private readonly tables = new Map<number, KnownTable>();

  /** The source's collations by id (see collations.ts): zongji would guess the character set of those it does not know. */
  constructor(private readonly collations: Collations | undefined) {}

  /** The table a table id was last mapped to. */
  get(tableId: number): KnownTable | undefined {
    return this.tables.get(tableId);
  }

  /**
   * Records the table definition in force when the event was written (from
   * the TableMap's own metadata, binlog_row_metadata=FULL) and switches the
   * columns whose decoded values would not round-trip to raw bytes (see
   * switchColumns). zongji decodes the rows that follow with this same
   * table map entry. The definition is derived again only when the table
   * map differs from the one before it for this table id.
   */
  remember(event: BinlogEventByTypeName<'TableMap'>, checksums: boolean): void {
    const entry = event.tableMap[event.tableId];
    if (!entry?.columns) return;
    const known = this.tables.get(event.tableId);
    // The very columns it was derived from, given again for the same table map (see table-maps.ts): switched already.
    if (known?.columns === entry.columns) return;
    const collationIds = (event as unknown as { _columnCharsetIds?: Array<number | undefined> })._columnCharsetIds;
    this.correctCharsets(entry.columns, collationIds);
    const raw = rawEvent(event);
    const checksum = checksums ? 4 : 0;
    const body = raw?.subarray(EVENT_HEADER_BYTES, raw.length - checksum);
    if (known && body && known.body.equals(body) && sameSchemas(known, entry)) {
      known.columns = entry.columns;
      switchColumns(entry, known.switches);
      return;
    }
    const derived = this.deriveTable(entry as Parameters<TableDefinitions['deriveTable']>[0], event.primaryKey, collationIds);
    // (The same definition object while it is unchanged, so what is derived from it, statement texts, is reused.)
    const table = known && sameTable(known.table, derived.table) ? known.table : derived.table;
    this.tables.set(event.tableId, {
      ...derived,
      table,
      // (No bytes, none to compare with next time: a table map's body is never empty.)
      body: body ? Buffer.from(body) : Buffer.alloc(0),
      ...(known?.table === table && known.binlogTarget !== undefined ? { binlogTarget: known.binlogTarget } : {}),
    });
    switchColumns(entry, derived.switches);
  }

  /**
   * Each text column's character set as the source's collation table says,
   * where zongji guessed another (see collations.ts), before anything reads
   * or decodes with it. Not for binary strings (collation 63): zongji names
   * no character set for them.
   */
  private correctCharsets(columns: ColumnInfo[], collationIds: Array<number | undefined> | undefined): void {
    const collations = this.collations;
    if (!collations || !collationIds) return;
    for (let i = 0; i < columns.length; i++) {
      const id = collationIds[i];
      const charset = id === undefined || id === BINARY_COLLATION_ID ? undefined : collations[id]?.charset;
      if (charset && columns[i]!.charset !== charset && !switchedColumns.has(columns[i]!)) columns[i]!.charset = charset;
    }
  }

  /** A table map entry as our TableDef, and which of zongji's columns to read as raw bytes. */
  private deriveTable(
    entry: TableMapEntry & { columns: NonNullable<TableMapEntry['columns']> },
    primaryKey: number[] | undefined,
    collationIds?: Array<number | undefined>,
  ): Omit<KnownTable, 'body' | 'binlogTarget'> {
    const switches: KnownTable['switches'] = [];
    const read: KnownTable['read'] = [];
    const hidden = hiddenColumns(
      entry.columns.map((c, i) => ({ name: c.name, type: asRead(c).type, unsigned: entry.columnSchemas[i]?.UNSIGNED })),
    );
    const columns: ColumnDef[] = entry.columns.map((switched, i) => {
      const column = asRead(switched);
      const schema = entry.columnSchemas[i];
      // As the table map first had it: the raw-text switch rewrites it,
      // and zongji reuses a table map it had to look up.
      const sqlType = schema ? (originalTypes.get(schema) ?? schema.COLUMN_TYPE) : undefined;
      if (schema && sqlType) originalTypes.set(schema, sqlType);
      read.push(column.name, sqlType, schema?.COLLATION_NAME, column.charset);
      const characterSet = column.charset ?? undefined;
      const collationId = collationIds?.[i];
      const collation = schema?.COLLATION_NAME ?? (collationId !== undefined ? this.collations?.[collationId]?.name : undefined);
      // zongji names no character set for binary strings (BINARY, VARBINARY, BLOB).
      const collated = Boolean(column.charset) && column.charset !== 'binary' && (TEXT_TYPES.has(column.type) || BLOB_TYPES.has(column.type));
      const { kind, charset, decimals, hhmmss, to } = howToRead(column, schema !== undefined);
      if (to) switches.push({ index: i, to });
      return {
        name: column.name,
        kind,
        ...(charset ? { charset } : {}),
        ...(collated ? { collated } : {}),
        ...(decimals !== undefined ? { decimals } : {}),
        ...(sqlType ? { sqlType } : {}),
        ...(characterSet && characterSet !== 'binary' ? { characterSet } : {}),
        ...(collation && characterSet && characterSet !== 'binary' ? { collation } : {}),
        ...(hidden?.[i] ? { hidden: true } : {}),
        ...(hhmmss ? { hhmmss } : {}),
      };
    });
    const table: TableDef = { database: entry.parentSchema, table: entry.tableName, columns, primaryKey: primaryKey ?? [] };
    const layout = rowsLayout(entry.columns.map(asRead) as ColumnLayout[]);
    return { table, schemas: entry.columnSchemas, columns: entry.columns, read, switches, layout };
  }
}

/**
 * How a column's values travel (its kind), and what zongji must read them
 * as instead of its own decoding, where that would not round-trip.
 */
function howToRead(column: ColumnInfo, hasSchema: boolean): { kind: ColumnKind; charset?: string; decimals?: number; hhmmss?: true; to?: Switch } {
  const { type, charset } = column;
  // Spatial values as the server's bytes (zongji decodes them to lossy point lists).
  if (type === TYPE.GEOMETRY) return { kind: 'geometry', to: 'blob' };
  const text = BLOB_TYPES.has(type) || (TEXT_TYPES.has(type) && hasSchema);
  if (text && charset && charset !== 'binary') {
    // Bytes: UTF-8 made strings where valid (see textOrBytes); other
    // character sets as they are (zongji would put replacement characters
    // for bytes it has no character for), labelled with their character set.
    const to: Switch = BLOB_TYPES.has(type) ? 'bytes' : 'varbinary';
    return UTF8_CHARSETS.has(charset) ? { kind: 'text', to } : { kind: 'raw-text', charset, to };
  }
  switch (type) {
    case TYPE.TIMESTAMP:
      return { kind: 'timestamp', decimals: 0 };
    case TYPE.TIMESTAMP2:
      return { kind: 'timestamp', decimals: Number((column as { metadata?: { decimals?: number } }).metadata?.decimals ?? 0) };
    // Their numbers, as the server stores them: the names cannot say
    // ENUM's error value (index 0, shown as '') nor a SET member ''.
    case TYPE.ENUM:
      return { kind: 'enum', to: 'number' };
    case TYPE.SET:
      return { kind: 'set', to: 'number' };
    case TYPE.TIME:
      // (Stored as the decimal HHMMSS: a table of before MariaDB 10.0, or created with mysql56_temporal_format=OFF.)
      return { kind: 'time', hhmmss: true };
    case TYPE.TIME2:
      return { kind: 'time' };
    case TYPE.BIT:
      return { kind: 'bit' };
    case TYPE.YEAR:
      return { kind: 'year' };
    default:
      return { kind: 'plain' };
  }
}

function sameTable(a: TableDef, b: TableDef): boolean {
  return (
    a.database === b.database &&
    a.table === b.table &&
    a.columns.length === b.columns.length &&
    a.columns.every(
      (c, i) =>
        c.name === b.columns[i]!.name &&
        c.kind === b.columns[i]!.kind &&
        c.charset === b.columns[i]!.charset &&
        c.collated === b.columns[i]!.collated &&
        c.decimals === b.columns[i]!.decimals &&
        c.sqlType === b.columns[i]!.sqlType &&
        c.characterSet === b.columns[i]!.characterSet &&
        c.collation === b.columns[i]!.collation &&
        c.hidden === b.columns[i]!.hidden &&
        c.hhmmss === b.columns[i]!.hhmmss,
    ) &&
    a.primaryKey.length === b.primaryKey.length &&
    a.primaryKey.every((k, i) => k === b.primaryKey[i])
  );
}

/**
 * Makes zongji read as raw bytes the values that would not round-trip
 * decoded: spatial values (decoded to lossy point lists) and non-UTF-8 text
 * (decoded with replacement characters for undefined bytes). zongji's
 * column objects are new with every table map event, and so are its column
 * schemas unless it had to look them up (then kept: switched once).
 */
function switchColumns(entry: TableMapEntry, switches: KnownTable['switches']): void {
  for (const { index, to } of switches) {
    const column = entry.columns![index]!;
    if (!switchedColumns.has(column)) switchedColumns.set(column, { type: column.type, charset: column.charset });
    if (to === 'blob') {
      column.type = TYPE.BLOB; // BLOB path: the raw bytes, no decoding
      column.charset = null;
    } else if (to === 'number') {
      // An ENUM or SET is stored as an unsigned integer of its size in bytes.
      const read = switchedColumns.get(column)!;
      const size = Number((column as { metadata?: { size?: number } }).metadata?.size);
      const integer = INTEGER_OF_SIZE[size];
      if (integer === undefined || (read.type !== TYPE.ENUM && read.type !== TYPE.SET)) {
        throw new Error(`internal: column ${column.name} is not an ENUM or SET of 1 to 8 bytes (type ${read.type}, ${size} bytes)`);
      }
      column.type = integer;
      entry.columnSchemas[index]!.UNSIGNED = true;
    } else if (to === 'bytes') {
      column.charset = null;
    } else {
      const schema = entry.columnSchemas[index]!;
      if (!originalTypes.has(schema)) originalTypes.set(schema, schema.COLUMN_TYPE);
      schema.COLUMN_TYPE = 'varbinary'; // zongji returns VARBINARY values as Buffers
    }
  }
}

/**
 * Whether zongji's column schemas say what they said when the table was
 * derived: the same ones (looked up once and kept), or built anew from a
 * table map of the same bytes (binlog_row_metadata=FULL) or looked up
 * again, to the same effect.
 */
function sameSchemas(known: KnownTable, entry: TableMapEntry): boolean {
  if (known.schemas === entry.columnSchemas) return true;
  const columns = entry.columns!;
  const read = known.read;
  if (read.length !== columns.length * 4) return false;
  for (let i = 0, r = 0; i < columns.length; i++, r += 4) {
    const schema = entry.columnSchemas[i];
    const column = asRead(columns[i]!);
    if (
      read[r] !== column.name ||
      read[r + 1] !== (schema ? (originalTypes.get(schema) ?? schema.COLUMN_TYPE) : undefined) ||
      read[r + 2] !== schema?.COLLATION_NAME ||
      read[r + 3] !== column.charset
    ) {
      return false;
    }
  }
  return true;
}

/** The integer types zongji reads an ENUM or SET of so many bytes as. */
const INTEGER_OF_SIZE: Readonly<Record<number, number>> = { 1: TYPE.TINY, 2: TYPE.SHORT, 3: TYPE.INT24, 4: TYPE.LONG, 8: TYPE.LONGLONG };

/** zongji's columns as the table map had them, before switchColumns changed them (they may be given again, see table-maps.ts). */
const switchedColumns = new WeakMap<ColumnInfo, Pick<ColumnInfo, 'type' | 'charset'>>();

function asRead(column: ColumnInfo): ColumnInfo {
  const read = switchedColumns.get(column);
  return read ? { ...column, ...read } : column;
}

/** Column types as zongji's table map first spelled them (rememberTable changes some). */
const originalTypes = new WeakMap<object, string>();
