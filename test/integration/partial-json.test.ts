// MySQL 8's partial JSON updates (PARTIAL_UPDATE_ROWS) applied on a real
// MariaDB replica: the row events of json.binlog.000001 (MySQL 8.0.22,
// binlog_row_value_options=PARTIAL_JSON, binlog_row_image=MINIMAL; see
// test/fixtures/binlogs), decoded by binlog-sync's source and applied with
// the statements of its SQL row path, in order. The file's own generated
// `age` column, which MySQL computed from each new document and logged
// beside the change, is the oracle: the replica's document must say the same.
// (`replay` of the file itself stops at its CREATE TABLE, whose `->>` columns
// MariaDB cannot parse, and its table maps lack column names: see replay-mysql.test.ts.)
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminConnection, dropDatabases, uniqueName } from '../support/context.js';
import { decodeFile } from '../support/recorded-binlogs.js';
import { buildRowChange } from '../../src/sql/statements.js';
import type { SourceEvent } from '../../src/source/events.js';

const db = uniqueName('pjson');
let replica: Connection;

beforeAll(async () => {
  replica = await adminConnection('replica');
  await replica.query(`CREATE DATABASE ${db}`);
  // mysql.t of the file, its generated columns plain here (MariaDB cannot parse MySQL's `->>`): they take the logged values.
  await replica.query(`CREATE TABLE ${db}.t (id INT PRIMARY KEY AUTO_INCREMENT, json_col JSON, name VARCHAR(100), age INT)`);
});

afterAll(async () => {
  await replica?.end();
  await dropDatabases([db]);
});

type Rows = Extract<SourceEvent, { type: 'rows' }>;

async function select(): Promise<unknown[]> {
  const [rows] = await replica.query({ sql: `SELECT id, CAST(json_col AS CHAR), name, age, CAST(JSON_EXTRACT(json_col, '$.age') AS CHAR) FROM ${db}.t ORDER BY id`, rowsAsArray: true });
  return rows as unknown[];
}

describe('partial JSON updates on MariaDB', () => {
  it("json.binlog.000001's partial update changes each document as MySQL did (the logged age says so)", async () => {
    const events = (await decodeFile('json.binlog.000001')).filter((e): e is Rows => e.type === 'rows');
    const apply = async (event: Rows): Promise<void> => {
      for (const statement of buildRowChange({ ...event, table: { ...event.table, database: db } }, { setBased: true, flavor: 'mariadb' })) {
        const [result] = await replica.query(statement.sql, statement.params);
        if (statement.expectRows !== undefined) expect((result as { affectedRows: number }).affectedRows).toBe(statement.expectRows);
      }
    };
    for (const event of events.slice(0, -1)) await apply(event);
    const before = await select();
    await apply(events.at(-1)!);
    const after = await select();
    expect(after).toHaveLength(6);
    for (const [n, row] of (after as Array<[number, string, string, number, unknown]>).entries()) {
      const [id, document, name, age, documentAge] = row;
      // The document's age is the one MySQL computed from its own new document, one more than before; nothing else moved.
      expect(String(age)).toBe(String(documentAge));
      const old = JSON.parse((before[n] as [number, string])[1]) as Record<string, unknown>;
      expect(JSON.parse(document)).toEqual({ ...old, age: (old.age as number) + 1 });
      expect([id, name]).toEqual([(before[n] as unknown[])[0], old.name]);
    }
    // MySQL's own text of the first document after the change (the same as its full images print, key order and spacing).
    expect((after[0] as unknown[])[1]).toBe('{"age": 26, "data": "xxxxxxxxxx", "name": "Joe"}');
  });
});
