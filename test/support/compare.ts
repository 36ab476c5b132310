// Exact comparison of a database on the source and its copy on the replica:
// every table's definition and every row, each value as the server's own
// bytes (CAST ... AS BINARY), so no driver conversion can hide a difference
// (and ENUM and SET values as their numbers too: see valueOf).
import type { Connection } from 'mysql2/promise';
import { expect } from 'vitest';
import { adminConnection } from './context.js';
import type { ServerInfo } from './servers.js';

export interface DatabaseImage {
  tables: Record<string, { definition: string; rows: string[] }>;
}

const q = (name: string): string => '`' + name.replace(/`/g, '``') + '`';

async function tableNames(conn: Connection, database: string): Promise<string[]> {
  const [rows] = await conn.query(
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [database],
  );
  return (rows as Array<{ name: string }>).map((r) => r.name);
}

async function columnsOf(conn: Connection, database: string, table: string): Promise<Array<{ name: string; type: string }>> {
  const [rows] = await conn.query(
    'SELECT COLUMN_NAME AS name, DATA_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [database, table],
  );
  return rows as Array<{ name: string; type: string }>;
}

/**
 * A column's value as the server's bytes; an ENUM or SET also as its number,
 * which its text does not always show (ENUM's error value and a member '' are
 * both '', and so are SET's empty set and a member '').
 */
function valueOf(column: { name: string; type: string }): string {
  const name = q(column.name);
  const bytes = `HEX(CAST(${name} AS BINARY))`;
  const value = /^(enum|set)$/i.test(column.type) ? `CONCAT(${bytes}, '#', ${name} + 0)` : bytes;
  return `IF(${name} IS NULL, 'NULL', ${value})`;
}

/** Table definitions (without the AUTO_INCREMENT counter) and rows as hex, sorted. */
export async function imageOf(conn: Connection, database: string): Promise<DatabaseImage> {
  await conn.query("SET SESSION time_zone = '+00:00'");
  const image: DatabaseImage = { tables: {} };
  for (const table of await tableNames(conn, database)) {
    const [created] = await conn.query(`SHOW CREATE TABLE ${q(database)}.${q(table)}`);
    const definition = String(Object.values((created as Array<Record<string, string>>)[0]!)[1]).replace(/ AUTO_INCREMENT=\d+/, '');
    const select = (await columnsOf(conn, database, table)).map(valueOf).join(', ');
    const [rows] = await conn.query({ sql: `SELECT ${select} FROM ${q(database)}.${q(table)}`, rowsAsArray: true });
    const lines = (rows as unknown[][]).map((r) => r.map(String).join('|')).sort();
    image.tables[table] = { definition, rows: lines };
  }
  return image;
}

/** The databases on a server, without the system ones. */
export async function userDatabases(conn: Connection): Promise<string[]> {
  const [rows] = await conn.query(
    "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql','information_schema','performance_schema','sys')",
  );
  return (rows as Array<{ name: string }>).map((r) => r.name);
}

/** Asserts the replica's copy of a database is identical to the source's. */
export async function expectIdentical(
  database: string,
  replicaDatabase = database,
  servers: { source?: ServerInfo; replica?: ServerInfo } = {},
): Promise<DatabaseImage> {
  const source = await adminConnection('source', servers.source);
  const replica = await adminConnection('replica', servers.replica);
  try {
    const expected = await imageOf(source, database);
    const actual = await imageOf(replica, replicaDatabase);
    expect(Object.keys(actual.tables)).toEqual(Object.keys(expected.tables));
    for (const [table, image] of Object.entries(expected.tables)) {
      expect(actual.tables[table]!.definition, `definition of ${table}`).toBe(image.definition);
      expect(actual.tables[table]!.rows, `rows of ${table}`).toEqual(image.rows);
    }
    return expected;
  } finally {
    await source.end();
    await replica.end();
  }
}
