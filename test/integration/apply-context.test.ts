// A statement's context travels with it, and row events are already checked
// (docs/spec semantics): each case runs SQL on one source whose zone is
// +05:30, replicated by the server's own replica and by binlog-sync, and
// binlog-sync's copy must equal the native replica's exactly (which must
// equal the source's).
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXACT_VALUES } from '../support/context.js';
import { Differential } from '../support/differential.js';

const db = 'ctx_sql';
let diff: Differential;

beforeAll(async () => {
  diff = await Differential.start({
    databases: [db],
    ids: [81, 82, 83],
    // The zone is the server's own (no SET in the sessions): +05:30 as a default
    // time zone, which both replicas can name; the process zone differs again.
    source: { timeZone: 'Asia/Kolkata', options: { 'default-time-zone': '+05:30' } },
  });
  await diff.run(`CREATE DATABASE ${db}`);
});

afterAll(async () => {
  await diff?.close();
});

/** The rows a query returns on the native replica and on ours (values as the servers' bytes, in UTC). */
async function bothReplicas(sql: string): Promise<{ native: unknown[]; ours: unknown[] }> {
  const read = async (url: string): Promise<unknown[]> => {
    const conn = await mysql.createConnection({ uri: url, ...EXACT_VALUES });
    try {
      await conn.query("SET SESSION time_zone = '+00:00'");
      const [rows] = await conn.query({ sql, rowsAsArray: true });
      return rows as unknown[];
    } finally {
      await conn.end();
    }
  };
  return { native: await read(diff.native.info.adminUrl), ours: await read(diff.ours.info.adminUrl) };
}

describe('DDL runs in its source context', () => {
  it("converts and defaults TIMESTAMPs in the source session's zone, and fills NOW(6) with the statement's time", async () => {
    await diff.run(
      `CREATE TABLE ${db}.tz (id INT PRIMARY KEY, dt DATETIME(6))`,
      `INSERT INTO ${db}.tz VALUES (1, '2024-03-10 02:30:00.500000'), (2, '2001-01-01 00:00:00'), (3, NULL)`,
      `ALTER TABLE ${db}.tz MODIFY dt TIMESTAMP(6) NULL`,
      `ALTER TABLE ${db}.tz ADD COLUMN u TIMESTAMP NOT NULL DEFAULT '2001-01-01 00:00:00'`,
      `ALTER TABLE ${db}.tz ADD COLUMN late DATETIME(6) NOT NULL DEFAULT NOW(6)`,
      `INSERT INTO ${db}.tz (id) VALUES (4)`,
    );
    await diff.expectSameAsNative(db);
  });

  it('runs EXCHANGE PARTITION with autocommit on', async () => {
    await diff.run(
      `CREATE TABLE ${db}.pt (id INT PRIMARY KEY, v INT) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (100), PARTITION p1 VALUES LESS THAN MAXVALUE)`,
      `CREATE TABLE ${db}.ex (id INT PRIMARY KEY, v INT)`,
      `INSERT INTO ${db}.pt VALUES (1, 1), (2, 2), (150, 3)`,
      `INSERT INTO ${db}.ex VALUES (10, 10), (20, 20)`,
      `ALTER TABLE ${db}.pt EXCHANGE PARTITION p0 WITH TABLE ${db}.ex`,
      `INSERT INTO ${db}.pt VALUES (30, 30)`,
    );
    await diff.expectSameAsNative(db);
  });

  it('runs DDL written under sql_mode=ORACLE in that mode', async () => {
    await diff.run(
      `SET SESSION sql_mode = 'ORACLE'`,
      `CREATE TABLE ${db}.ora (id NUMBER(10) PRIMARY KEY, name VARCHAR2(20), note VARCHAR2(30) DEFAULT ('a' || 'b'))`,
      `ALTER TABLE ${db}.ora ADD COLUMN amount NUMBER(12, 2)`,
      `SET SESSION sql_mode = DEFAULT`,
      `INSERT INTO ${db}.ora (id, name, amount) VALUES (1, 'one', 12.5)`,
    );
    await diff.expectSameAsNative(db);
  });
});

describe('row events go in as the source wrote them', () => {
  it('keeps the invalid dates ALLOW_INVALID_DATES stored (single rows and a large insert)', async () => {
    await diff.run(
      `CREATE TABLE ${db}.dates (id INT PRIMARY KEY, d DATE, dt DATETIME(6))`,
      `SET SESSION sql_mode = CONCAT(@@sql_mode, ',ALLOW_INVALID_DATES')`,
      `INSERT INTO ${db}.dates VALUES (1, '2024-02-31', '2023-04-31 10:00:00.25')`,
      `UPDATE ${db}.dates SET d = '2023-02-30' WHERE id = 1`,
      `INSERT INTO ${db}.dates (id, d, dt)
         WITH RECURSIVE n AS (SELECT 2 AS i UNION ALL SELECT i + 1 FROM n WHERE i < 300)
         SELECT i, '2024-02-31', '2024-06-31 23:59:59.999999' FROM n`,
      `SET SESSION sql_mode = DEFAULT`,
    );
    await diff.expectSameAsNative(db);
  });

  it('does not check CHECK constraints again on rows written with check_constraint_checks=0', async () => {
    await diff.run(
      `CREATE TABLE ${db}.ck (id INT PRIMARY KEY, v INT, CONSTRAINT positive CHECK (v > 0))`,
      `SET SESSION check_constraint_checks = 0`,
      `INSERT INTO ${db}.ck VALUES (1, -5)`,
      `UPDATE ${db}.ck SET v = -6 WHERE id = 1`,
      `INSERT INTO ${db}.ck (id, v) WITH RECURSIVE n AS (SELECT 2 AS i UNION ALL SELECT i + 1 FROM n WHERE i < 200) SELECT i, -i FROM n`,
      `SET SESSION check_constraint_checks = 1`,
      `INSERT INTO ${db}.ck VALUES (1000, 1)`,
    );
    await diff.expectSameAsNative(db);
  });

  it('reproduces the whole history of system-versioned tables', async () => {
    await diff.run(
      `CREATE TABLE ${db}.sv (id INT PRIMARY KEY, x INT, s VARCHAR(10)) WITH SYSTEM VERSIONING`,
      `CREATE TABLE ${db}.svx (id INT PRIMARY KEY, x INT,
         vs TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE, ve TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,
         PERIOD FOR SYSTEM_TIME (vs, ve)) WITH SYSTEM VERSIONING`,
      `INSERT INTO ${db}.sv VALUES (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c')`,
      `INSERT INTO ${db}.svx (id, x) VALUES (1, 1), (2, 2)`,
      `UPDATE ${db}.sv SET x = x + 1`,
      `START TRANSACTION;
       UPDATE ${db}.sv SET s = 'z' WHERE id = 2;
       DELETE FROM ${db}.sv WHERE id = 3;
       UPDATE ${db}.svx SET x = 5 WHERE id = 1;
       DELETE FROM ${db}.svx WHERE id = 2;
       COMMIT`,
      `INSERT INTO ${db}.sv VALUES (3, 33, 'again')`,
    );
    await diff.expectSameAsNative(db);
    // The copies above hold the current rows only: compare every version, with its period.
    for (const [sql, current] of [
      [`SELECT id, x, s, HEX(CAST(row_start AS BINARY)), HEX(CAST(row_end AS BINARY)) FROM ${db}.sv FOR SYSTEM_TIME ALL ORDER BY id, row_end`, 3],
      [`SELECT id, x, HEX(CAST(vs AS BINARY)), HEX(CAST(ve AS BINARY)) FROM ${db}.svx FOR SYSTEM_TIME ALL ORDER BY id, ve`, 1],
    ] as const) {
      const { native, ours } = await bothReplicas(sql);
      expect(native.length, 'history rows on the native replica').toBeGreaterThan(current);
      expect(ours, sql).toEqual(native);
    }
  });
});
