// What snapshot and verify need to know of a table: its columns (in order,
// without generated ones), their kinds, and its primary key.
import type { Connection } from '../db/connect.js';
import { queryAll } from '../db/connect.js';
import type { ColumnDef, TableDef } from '../source/events.js';
import type { ReplicationFilter } from '../txn/filter.js';

export interface TableInfo extends TableDef {
  /** Rough row count from the server's statistics, for progress and ETA. */
  estimatedRows: number;
  /** The server's average row length (statistics): how many rows to read ahead. */
  averageRowBytes?: number;
}

interface ColumnRow {
  table: string;
  name: string;
  dataType: string;
  columnType: string;
  characterSet: string | null;
  collation: string | null;
  extra: string;
}

const GEOMETRY_TYPES = new Set(['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection']);

function kindOf(dataType: string): ColumnDef['kind'] {
  const t = dataType.toLowerCase();
  if (GEOMETRY_TYPES.has(t)) return 'geometry';
  if (t === 'float') return 'float';
  if (t === 'bit') return 'bit';
  if (t === 'timestamp') return 'timestamp';
  return 'plain';
}

/** The base tables of a database that the filter replicates, with their columns and keys. */
export async function replicatedTables(conn: Connection, database: string, filter: ReplicationFilter): Promise<TableInfo[]> {
  const tables = await queryAll<{ name: string; rows: string | number | null; avg: string | number | null }>(
    conn,
    "SELECT TABLE_NAME AS name, TABLE_ROWS AS `rows`, AVG_ROW_LENGTH AS avg FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [database],
  );
  const columns = await queryAll<ColumnRow>(
    conn,
    'SELECT TABLE_NAME AS `table`, COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, CHARACTER_SET_NAME AS characterSet, COLLATION_NAME AS collation, EXTRA AS extra ' +
      'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION',
    [database],
  );
  const keys = await queryAll<{ table: string; name: string }>(
    conn,
    "SELECT TABLE_NAME AS `table`, COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_NAME, SEQ_IN_INDEX",
    [database],
  );
  return tables
    .filter((t) => filter.replicatesTable(database, t.name))
    .map((t) => {
      // Generated columns are computed by the server; they are neither copied nor compared.
      const cols = columns.filter((c) => c.table === t.name && !/GENERATED/i.test(c.extra));
      const defs: ColumnDef[] = cols.map((c) => ({
        name: c.name,
        kind: kindOf(c.dataType),
        sqlType: c.columnType,
        ...(c.characterSet ? { characterSet: c.characterSet } : {}),
        ...(c.collation ? { collation: c.collation } : {}),
      }));
      const primaryKey = keys.filter((k) => k.table === t.name).map((k) => defs.findIndex((d) => d.name === k.name));
      return {
        database,
        table: t.name,
        columns: defs,
        primaryKey: primaryKey.every((i) => i >= 0) ? primaryKey : [],
        estimatedRows: Number(t.rows ?? 0),
        averageRowBytes: Number(t.avg ?? 0),
      };
    });
}

/**
 * The expression that reads a column exactly over the text protocol: FLOAT
 * is printed with too few digits, so it is read as the DOUBLE it widens to.
 */
export function selectExpression(column: ColumnDef, quote: (name: string) => string): string {
  const name = quote(column.name);
  return column.kind === 'float' ? `CAST(${name} AS DOUBLE)` : name;
}
