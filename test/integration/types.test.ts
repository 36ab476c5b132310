// Every column type with its extreme values arrives exactly, while the source
// (America/New_York), the replica (Asia/Tokyo) and the replicator process
// (Australia/Adelaide) all run in different time zones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, dropDatabases, uniqueName } from '../support/context.js';
import { expectIdentical } from '../support/compare.js';
import { startReplication, type Replication } from '../support/replication.js';

const db = uniqueName('types');
let source: Connection;
let replication: Replication;

const COLUMNS = `
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  dec65 DECIMAL(65,30), dec5 DECIMAL(5,2) UNSIGNED, f FLOAT, d DOUBLE,
  b1 BIT(1), b7 BIT(7), b33 BIT(33), b64 BIT(64),
  e ENUM('', 'a', 'b,c', 'it''s', 'quote"d', 'ünï'), s SET('x', 'y z', 'q''r', 'dq"'),
  dt DATE, dtm0 DATETIME, dtm3 DATETIME(3), dtm6 DATETIME(6),
  ts0 TIMESTAMP NULL DEFAULT NULL, ts3 TIMESTAMP(3) NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL,
  tm0 TIME, tm6 TIME(6), yr YEAR,
  c CHAR(20) CHARACTER SET utf8mb4, vc VARCHAR(200) CHARACTER SET utf8mb4, tx TEXT CHARACTER SET utf8mb4,
  l1c CHAR(10) CHARACTER SET latin1, l1v VARCHAR(300) CHARACTER SET latin1, l1t TEXT CHARACTER SET latin1,
  bn BINARY(8), vb VARBINARY(300), bl BLOB, lb LONGBLOB, j JSON,
  g GEOMETRY, pt POINT, ls LINESTRING, pg POLYGON, mp MULTIPOINT, gc GEOMETRYCOLLECTION
`;

const allLatin1 = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));

/** Rows of extremes; values are SQL expressions so the server itself parses them. */
const ROWS: string[] = [
  // minimums
  `-128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
   '-99999999999999999999999999999999999.999999999999999999999999999999', 0.00, -3.402823466e38, -1.7976931348623157e308,
   b'0', b'0000000', b'0', b'0',
   '', '', '1000-01-01', '1000-01-01 00:00:00', '1000-01-01 00:00:00.000', '1000-01-01 00:00:00.000000',
   '1970-01-01 00:00:01', '1970-01-01 00:00:01.000', '1970-01-01 00:00:01.000000',
   '-838:59:59', '-838:59:59.000000', 1901,
   '', '', '', '', '', '', X'', X'', X'', X'', '[]',
   ST_GeomFromText('POINT(0 0)'), ST_GeomFromText('POINT(-180 -90)'), ST_GeomFromText('LINESTRING(0 0, 1 1)'),
   ST_GeomFromText('POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (1 1, 2 1, 2 2, 1 1))'),
   ST_GeomFromText('MULTIPOINT(0 0, 1 1)'), ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(0 0, 1 1))')`,
  // maximums
  `127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
   '99999999999999999999999999999999999.999999999999999999999999999999', 999.99, 3.402823466e38, 1.7976931348623157e308,
   b'1', b'1111111', b'111111111111111111111111111111111', b'1111111111111111111111111111111111111111111111111111111111111111',
   'quote"d', 'x,y z,q''r,dq"', '9999-12-31', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999', '9999-12-31 23:59:59.999999',
   '2038-01-19 03:14:07', '2038-01-19 03:14:07.999', '2038-01-19 03:14:07.999999',
   '838:59:59', '838:59:59.999999', 2155,
   'emoji 😀🎢', 'ünïcödé ☃ 𝄞 😀 — “quotes” \\\\ back\\\\slash \\' single', REPEAT('long text ✓ ', 500),
   'café', 'Ärger ß', REPEAT('é', 1000),
   X'FFFFFFFFFFFFFFFF', X'00FF00FF', REPEAT(X'00FF', 300), REPEAT(X'DEADBEEF', 100000),
   '{"a": [1, 2.5, "x", null, true], "nested": {"k": "v ☃"}, "big": 18446744073709551615}',
   ST_GeomFromText('MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)))', 4326), ST_GeomFromText('POINT(180 90)'),
   ST_GeomFromText('LINESTRING(-1.5 2.25, 3.125 -4.0625, 1e10 -1e-10)'), ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))'),
   ST_GeomFromText('MULTIPOINT(1 2)'), ST_GeomFromText('GEOMETRYCOLLECTION EMPTY')`,
  // zero dates, small fractions, odd values
  `0, 0, 0, 0, 0, 0, 0, 0, 0, 9223372036854775808,
   '0.000000000000000000000000000001', 0.01, 1.17549435e-38, 4.9406564584124654e-324,
   b'1', b'1010101', b'100000000000000000000000000000001', b'1000000000000000000000000000000000000000000000000000000000000001',
   'b,c', 'x', '0000-00-00', '0000-00-00 00:00:00', '2020-00-15 00:00:00.001', '2020-02-00 12:34:56.000001',
   '0000-00-00 00:00:00', '2000-02-29 23:59:59.001', '1999-12-31 23:59:59.999999',
   '00:00:00', '-00:00:00.000001', 0,
   'trailing  ', ' lead', '\\0 nul', 'abc', 'x', '', X'0000000000000000', X'00', X'00', X'', '{"k": 1.0E10}',
   NULL, NULL, NULL, NULL, NULL, NULL`,
  // another time of day, in DST on the source
  `-1, 1, -1, 1, -1, 1, -1, 1, -1, 1, '-1.5', 1.5, 0.1, 0.1,
   NULL, NULL, NULL, NULL, 'it''s', 'q''r', '2024-03-10', '2024-03-10 02:30:00', '2024-03-10 02:30:00.5', '2024-03-10 02:30:00.25',
   '2024-03-10 02:30:00', '2024-11-03 01:30:00.123', '2024-11-03 01:30:00.123456',
   '-00:00:01', '12:00:00.5', 2000, 'ünï', 'ünï', 'ünï', 'x', 'y', 'z', X'01', X'02', X'03', X'04', 'null',
   ST_GeomFromText('POINT(1 1)', 3857), NULL, NULL, NULL, NULL, NULL`,
];

beforeAll(async () => {
  source = await adminConnection('source');
  replication = await startReplication({ databases: [db] });
  await source.query(`CREATE DATABASE \`${db}\``); // replicated too
  await source.query("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'"); // allow zero dates, as production data may hold them
});

afterAll(async () => {
  await replication?.close();
  await source?.end();
  await dropDatabases([db]);
});

describe('column types', () => {
  it('copies extreme values of every type exactly, with and without a primary key', async () => {
    await source.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, ${COLUMNS}) DEFAULT CHARSET=utf8mb4`);
    await source.query(`CREATE TABLE \`${db}\`.nopk (id INT, ${COLUMNS}) DEFAULT CHARSET=utf8mb4`);
    for (const [i, values] of ROWS.entries()) {
      await source.query(`INSERT INTO \`${db}\`.t VALUES (${i + 1}, ${values})`);
      await source.query(`INSERT INTO \`${db}\`.nopk VALUES (${i + 1}, ${values})`);
    }
    await source.query(`UPDATE \`${db}\`.t SET l1v = ?, vb = ? WHERE id = 1`, [allLatin1.toString('latin1'), allBytes]);
    await source.query(`UPDATE \`${db}\`.t SET l1t = CONVERT(? USING latin1), bl = ? WHERE id = 2`, [allLatin1, allLatin1]);
    await replication.caughtUp();
    const image = await expectIdentical(db);
    expect(image.tables.t!.rows).toHaveLength(ROWS.length);
  });

  it('copies them exactly when many rows arrive in one event (one multi-row statement)', async () => {
    await source.query(`CREATE TABLE \`${db}\`.t_many LIKE \`${db}\`.t`);
    await source.query(`CREATE TABLE \`${db}\`.nopk_many LIKE \`${db}\`.nopk`);
    await source.query(`INSERT INTO \`${db}\`.t_many SELECT * FROM \`${db}\`.t`);
    await source.query(`INSERT INTO \`${db}\`.nopk_many SELECT * FROM \`${db}\`.nopk`);
    await replication.caughtUp();
    const image = await expectIdentical(db);
    expect(image.tables.t_many!.rows).toStrictEqual(image.tables.t!.rows);
    expect(image.tables.nopk_many!.rows).toHaveLength(ROWS.length);
  });

  it('copies them exactly when a large insert is loaded as a file (LOAD DATA), special characters and bytes included', async () => {
    // The columns a LOAD DATA file carries (the others need an expression and are inserted).
    const loadable = 'ti, tiu, si, siu, mi, miu, i, iu, bi, biu, dec65, dec5, d, s, dt, dtm0, dtm3, dtm6, ts0, ts3, ts6, tm0, tm6, c, vc, tx, l1c, l1v, l1t, bn, vb, bl, lb, j';
    const table = `\`${db}\`.t_load`;
    await source.query(`CREATE TABLE ${table} LIKE \`${db}\`.t`);
    await source.query(`ALTER TABLE ${table} DROP f, DROP b1, DROP b7, DROP b33, DROP b64, DROP e, DROP yr, DROP g, DROP pt, DROP ls, DROP pg, DROP mp, DROP gc`);
    // Every row of t twenty times over (the 400 KB blob cut short, so that rows share events),
    // then text and bytes the file format gives a meaning.
    const columns = loadable.split(', ').map((c) => (c === 'lb' ? 'LEFT(t.lb, 64)' : `t.${c}`));
    await source.query(`INSERT INTO ${table} SELECT t.id * 1000 + seq, ${columns.join(', ')} FROM \`${db}\`.t CROSS JOIN mysql.seq_1_to_20`);
    await source.query(
      `INSERT INTO ${table} (id, vc, tx, l1v, vb, bl, j) SELECT seq, CONCAT('tab\tnew\nline\rcr \\\\ back \\\\N \\0 ', seq), IF(seq % 2, 'NULL', '\\N'),
         CONVERT(? USING latin1), IF(seq % 3, ?, X''), ?, ? FROM mysql.seq_1_to_100`,
      [allLatin1, allBytes, Buffer.from('\\N\t\n\0\\'), JSON.stringify({ s: 'a\tb\\c\n', n: null })],
    );
    await replication.caughtUp();
    const image = await expectIdentical(db);
    expect(image.tables.t_load!.rows).toHaveLength(ROWS.length * 20 + 100);
    expect(await replication.reconnects()).toBe(0); // no group had to be applied again one transaction at a time
    // On the BINLOG path the replica applied the rows events itself: LOAD DATA is the SQL path's (integration-sql).
    if (process.env.BINLOG_SYNC_TEST_ROW_APPLIER !== 'sql') return;
    // All rows went through LOAD DATA, each taken as it was (no warning sent a transaction back to INSERTs).
    const loaded = replication
      .output!.stderr.split('\n')
      .filter((line) => line.includes('"msg":"rows loaded with LOAD DATA"') && line.includes(`"table":"${db}.t_load"`))
      .reduce((sum, line) => sum + (JSON.parse(line) as { rows: number }).rows, 0);
    expect(loaded).toBe(ROWS.length * 20 + 100);
  });

  it('finds rows by their full before image, whatever the types, to update and delete them', async () => {
    // No primary key: every column value must compare equal on the replica.
    await source.query(`UPDATE \`${db}\`.nopk SET vc = CONCAT(IFNULL(vc, ''), ' updated'), f = f`);
    await source.query(`DELETE FROM \`${db}\`.nopk WHERE id IN (2, 4)`);
    await source.query(`UPDATE \`${db}\`.t SET ts6 = '2001-02-03 04:05:06.654321', dtm6 = NULL, g = ST_GeomFromText('POINT(2 3)') WHERE id = 3`);
    await source.query(`DELETE FROM \`${db}\`.t WHERE id = 2`);
    await replication.caughtUp();
    const image = await expectIdentical(db);
    expect(image.tables.nopk!.rows).toHaveLength(2);
    expect(image.tables.t!.rows).toHaveLength(3);
  });

  it('keeps TIMESTAMP values independent of every time zone involved', async () => {
    const replica = await adminConnection('replica');
    const [tz] = await replica.query('SELECT @@system_time_zone AS zone');
    const [rows] = await replica.query(`SELECT UNIX_TIMESTAMP(ts6) AS epoch FROM \`${db}\`.t WHERE id = 3`);
    await replica.end();
    expect((tz as Array<{ zone: string }>)[0]!.zone).toMatch(/JST/);
    expect(process.env.TZ).toBe('Australia/Adelaide');
    // 2001-02-03 04:05:06.654321 in the source session's zone (New York, UTC-5).
    expect((rows as Array<{ epoch: string }>)[0]!.epoch).toBe(String(Date.UTC(2001, 1, 3, 9, 5, 6) / 1000) + '.654321');
  });
});
