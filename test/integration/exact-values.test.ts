// Values that have no plain text form, found by running MariaDB's own test
// suite through binlog-sync (issue #23): each case is run through the
// server's own replica and through binlog-sync from one source, and the two
// copies must be identical (on both row paths: see vitest.config.ts).
import mysql, { type Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXACT_VALUES } from '../support/context.js';
import { Differential } from '../support/differential.js';

const db = 'exact_vals';
let diff: Differential;

beforeAll(async () => {
  diff = await Differential.start({ databases: [db], ids: [141, 142, 143], source: { timeZone: 'Asia/Kolkata' } });
  await diff.run(`CREATE DATABASE ${db}`);
});

afterAll(async () => {
  await diff?.close();
});

/** Runs `fn` on a source connection of its own, for cases that change session variables. */
async function onSession(fn: (conn: Connection) => Promise<void>): Promise<void> {
  const conn = await mysql.createConnection({ uri: diff.source.info.adminUrl, ...EXACT_VALUES, multipleStatements: true });
  try {
    await conn.query(`USE ${db}`);
    await fn(conn);
  } finally {
    await conn.end();
  }
}

/** Every row of a system-versioned table, history included, as hex, on a server. */
async function history(url: string, table: string): Promise<string[]> {
  const conn = await mysql.createConnection({ uri: url, ...EXACT_VALUES });
  try {
    await conn.query("SET time_zone = '+00:00'");
    const [rows] = await conn.query({
      sql: `SELECT pk, i, HEX(CAST(row_start AS BINARY)), HEX(CAST(row_end AS BINARY)) FROM ${db}.${table} FOR SYSTEM_TIME ALL`,
      rowsAsArray: true,
    });
    return (rows as unknown[][]).map((r) => r.map(String).join('|')).sort();
  } finally {
    await conn.end();
  }
}

describe('values with no plain text form, the same as the server own replica', () => {
  it("ENUM's error value (index 0), written and located", async () => {
    await onSession(async (conn) => {
      await conn.query(`SET SESSION sql_mode = ''`);
      await conn.query(`CREATE TABLE e1 (e ENUM('', 'a'))`);
      await conn.query(`INSERT INTO e1 VALUES ('x'), (''), ('a'), ('x')`);
      await conn.query(`CREATE TABLE e2 (id INT PRIMARY KEY, e ENUM('Y','N') NOT NULL)`);
      await conn.query(`INSERT IGNORE INTO e2 VALUES (1, ''), (2, 'Y'), (3, 'bad')`);
      await conn.query(`CREATE TABLE e3 (e ENUM('Y','N') NOT NULL, n INT)`);
      await conn.query(`INSERT IGNORE INTO e3 VALUES ('', 1), ('Y', 2), ('', 3)`);
      // Located by the error value: a keyless row, and a row by key.
      await conn.query(`UPDATE e3 SET n = 10 WHERE n = 1`);
      await conn.query(`DELETE FROM e3 WHERE n = 3`);
      await conn.query(`UPDATE IGNORE e2 SET e = 'nope' WHERE id = 2`);
      await conn.query(`DELETE FROM e1 WHERE e = 0 LIMIT 1`);
      await conn.query(`UPDATE e1 SET e = 'a' WHERE e = '' LIMIT 1`);
    });
    await diff.expectSameAsNative(db);
  });

  it('SET values written as their bits, the empty member included', async () => {
    await diff.run(
      `CREATE TABLE ${db}.s1 (s SET('', 'a'))`,
      `INSERT INTO ${db}.s1 VALUES (1), (2), (3), (0), (1)`,
      `CREATE TABLE ${db}.s2 (id INT PRIMARY KEY, s SET('a', '', 'b c', 'it''s') NOT NULL)`,
      `INSERT INTO ${db}.s2 VALUES (1, 1), (2, 2), (3, 15), (4, 0), (5, 6)`,
      `UPDATE ${db}.s1 SET s = 2 WHERE s = 1 LIMIT 1`,
      `DELETE FROM ${db}.s1 WHERE s = 3`,
      `UPDATE ${db}.s2 SET s = 3 WHERE id IN (2, 4)`,
      // Members named like numbers, in an insert large enough to be loaded as a file on the SQL path.
      `CREATE TABLE ${db}.s3 (id INT PRIMARY KEY, s SET('1', '2', '3', 'a', '', '12'))`,
      `INSERT INTO ${db}.s3 SELECT seq, seq % 64 FROM mysql.seq_1_to_200`,
    );
    await diff.expectSameAsNative(db);
  });

  it('negative TIME of whole days and of fractions only', async () => {
    await diff.run(
      `CREATE TABLE ${db}.tm (a TIME, b TIME(3), c TIME(6))`,
      `INSERT INTO ${db}.tm VALUES ('-24:00:00', '-00:00:01.5', '-48:00:00'), ('-00:00:01', '-24:00:00.000', '-00:00:00.000001'),
         ('-838:59:59', '-01:00:00.001', '-120:00:00.5'), ('-01:00:00', '-00:00:00.5', '-00:01:00')`,
      `UPDATE ${db}.tm SET c = '-72:00:00' WHERE a = '-24:00:00'`,
      `DELETE FROM ${db}.tm WHERE a = '-00:00:01'`,
    );
    await diff.expectSameAsNative(db);
  });

  it('bytes not valid in their character set (surrogates into utf8mb4)', async () => {
    await onSession(async (conn) => {
      await conn.query(`SET SESSION sql_mode = ''`);
      await conn.query(`CREATE TABLE sur (id INT PRIMARY KEY, c VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin)`);
      await conn.query(`INSERT INTO sur SELECT seq, CHAR(seq USING utf32) FROM seq_55290_to_55350`);
      await conn.query(`CREATE TABLE sur2 (c VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, n INT)`);
      await conn.query(`INSERT INTO sur2 SELECT CHAR(seq USING utf32), seq FROM seq_55295_to_55300`);
      await conn.query(`UPDATE sur SET c = CONCAT(c, 'x') WHERE id = 55300`);
      await conn.query(`UPDATE sur2 SET n = 0 WHERE n = 55297`);
      await conn.query(`DELETE FROM sur2 WHERE n = 55298`);
      // utf32, ucs2 and utf8mb3 hold them too (utf16 does not: a '?' there).
      await conn.query(`CREATE TABLE sur3 (n INT, a VARCHAR(10) CHARACTER SET utf32, b VARCHAR(10) CHARACTER SET ucs2, c VARCHAR(10) CHARACTER SET utf8mb3)`);
      await conn.query(`INSERT INTO sur3 SELECT seq, CHAR(seq USING utf32), CHAR(seq USING utf32), CHAR(seq USING utf32) FROM seq_55290_to_55350`);
      await conn.query(`DELETE FROM sur3 WHERE n IN (55296, 55350)`);
      await conn.query(`UPDATE sur3 SET n = -n WHERE n BETWEEN 55297 AND 55300`);
    });
    await diff.expectSameAsNative(db);
  });

  it('negative TIME of whole days in the format of before MariaDB 10.0 (mysql56_temporal_format=OFF)', async () => {
    await diff.run('SET GLOBAL mysql56_temporal_format = OFF');
    try {
      await diff.run(`CREATE TABLE ${db}.tm_old (a TIME, b TIME(3))`);
    } finally {
      await diff.run('SET GLOBAL mysql56_temporal_format = ON');
    }
    await diff.run(
      `INSERT INTO ${db}.tm_old VALUES ('-24:00:00', '-00:00:01.5'), ('-01:00:00', '-48:00:00'), ('-00:00:01', '-00:00:00.001'), ('-838:59:59', NULL)`,
      `DELETE FROM ${db}.tm_old WHERE a = '-01:00:00'`,
    );
    // (The replicas create the table in today's format, as they were set: only their rows equal the source's.)
    await diff.expectSameAsNative(db, { nativeMayDiffer: true });
    const { native } = await diff.images(db);
    expect(native.tables.tm_old!.rows.map((r) => r.split('|')[0])).toEqual(['2D30303A30303A3031', '2D32343A30303A3030', '2D3833383A35393A3539'].sort());
    // (Gone from the source, whose definition the next cases' comparisons would find different.)
    await diff.run(`DROP TABLE ${db}.tm_old`);
  });

  it('NO PAD collations of ucs2, utf16, utf32 and sjis', async () => {
    await diff.run(
      `CREATE TABLE ${db}.np16 (a VARCHAR(10) PRIMARY KEY) COLLATE utf16_general_nopad_ci`,
      `INSERT INTO ${db}.np16 VALUES ('abc'), (' a'), ('a '), ('ä☃𝄞')`,
      `CREATE TABLE ${db}.npucs2 (a VARCHAR(10) PRIMARY KEY) COLLATE ucs2_general_nopad_ci`,
      `INSERT INTO ${db}.npucs2 VALUES ('abc'), (' a'), ('a '), ('ä☃')`,
      `CREATE TABLE ${db}.np32 (a VARCHAR(10) PRIMARY KEY) COLLATE utf32_general_nopad_ci`,
      `INSERT INTO ${db}.np32 VALUES ('abc'), (' a'), ('a '), ('ä☃𝄞')`,
      `CREATE TABLE ${db}.npsjis (a VARCHAR(10)) COLLATE sjis_japanese_nopad_ci`,
      `INSERT INTO ${db}.npsjis VALUES (_sjis 0x82A0), ('abc'), ('a '), (_sjis 0x82A082A2)`,
      `CREATE TABLE ${db}.npbin (a VARCHAR(10) PRIMARY KEY) COLLATE utf16_nopad_bin`,
      `INSERT INTO ${db}.npbin VALUES ('abc'), ('ABC'), ('a '), ('a')`,
      `UPDATE ${db}.np16 SET a = 'xyz' WHERE a = 'abc'`,
      `DELETE FROM ${db}.np32 WHERE a = ' a'`,
      `DELETE FROM ${db}.npsjis WHERE a = _sjis 0x82A0`,
      `UPDATE ${db}.npsjis SET a = 'b' WHERE a = 'a '`,
    );
    await diff.expectSameAsNative(db);
  });

  it('keyless rows located under collations that do not mix with utf8mb4', async () => {
    const collations = [
      ['cp1250', 'cp1250_czech_cs'],
      ['latin1', 'latin1_german2_ci'],
      ['ucs2', 'ucs2_unicode_ci'],
      ['utf16', 'utf16_unicode_ci'],
      ['utf32', 'utf32_unicode_ci'],
    ];
    for (const [charset, collation] of collations) {
      const t = `${db}.k_${collation}`;
      await diff.run(
        `CREATE TABLE ${t} (a VARCHAR(10) CHARACTER SET ${charset} COLLATE ${collation}, n INT)`,
        `INSERT INTO ${t} VALUES ('a', 1), ('A', 2), ('a ', 3), ('ä', 4), ('a', 5)`,
        `UPDATE ${t} SET n = 20 WHERE n = 2`,
        `DELETE FROM ${t} WHERE n = 1`,
        `DELETE FROM ${t} WHERE n = 3`,
      );
    }
    await diff.expectSameAsNative(db);
  });

  it('a system-versioned delete at an earlier statement time than the insert', async () => {
    await onSession(async (conn) => {
      await conn.query(`CREATE TABLE sv (pk INT PRIMARY KEY, i INT) WITH SYSTEM VERSIONING`);
      await conn.query(`SET timestamp = 12345`);
      await conn.query(`INSERT sv VALUES (1, 3), (2, 4)`);
      await conn.query(`SET timestamp = 12344`);
      await conn.query(`DELETE FROM sv WHERE pk = 1`);
      await conn.query(`SET timestamp = 12343`);
      await conn.query(`UPDATE sv SET i = 5 WHERE pk = 2`);
      await conn.query(`SET timestamp = DEFAULT`);
    });
    await diff.expectSameAsNative(db);
    expect(await history(diff.ours.info.adminUrl, 'sv'), 'history of sv').toEqual(await history(diff.native.info.adminUrl, 'sv'));
  });

  it('long unique keys (hidden DB_ROW_HASH columns) are never written', async () => {
    await diff.run(
      `CREATE TABLE ${db}.lu (a BLOB, UNIQUE (a))`,
      `INSERT INTO ${db}.lu VALUES ('x'), ('y')`,
      `CREATE TABLE ${db}.lu2 (id INT PRIMARY KEY, a TEXT, b VARCHAR(2000), UNIQUE (a), UNIQUE (a(10), b))`,
      `INSERT INTO ${db}.lu2 VALUES (1, 'x', 'p'), (2, 'y', 'q')`,
      // A column of the table's own named like the hidden one: the hidden one is DB_ROW_HASH_2.
      `CREATE TABLE ${db}.lu3 (a BLOB, DB_ROW_HASH_1 BIGINT, UNIQUE (a))`,
      `INSERT INTO ${db}.lu3 VALUES ('x', 5), ('y', NULL)`,
      `DELETE FROM ${db}.lu3 WHERE DB_ROW_HASH_1 = 5`,
      `UPDATE ${db}.lu SET a = 'z' WHERE a = 'x'`,
      `DELETE FROM ${db}.lu WHERE a = 'y'`,
      `UPDATE ${db}.lu2 SET a = 'w', b = 'r' WHERE id = 1`,
      `DELETE FROM ${db}.lu2 WHERE id = 2`,
    );
    await diff.expectSameAsNative(db);
  });
});
