// `replay` of binlog files recorded by real MySQL 8/9 and MariaDB 10.5
// servers (test/fixtures/binlogs, from blackbeam/rust_mysql_common: see its
// README), into this harness's MariaDB replica: the rows their origin's
// tests document where MariaDB can hold them, and a one-line refusal naming
// what to change where binlog-sync or MariaDB cannot. The files use the
// `mysql` system database: --rewrite-db moves it to a database of the test's.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { REPO_ROOT, adminConnection, dropDatabases, runCli, tempDir, testServers, uniqueName } from '../support/context.js';

const scratch = tempDir('binlog-sync-replay-mysql-');
const targets: string[] = [];
let replica: Connection;

const fixture = (name: string): string => join(REPO_ROOT, 'test', 'fixtures', 'binlogs', name);

/** Replays a fixture's `database` into a new database of the replica; returns it and the CLI's result. */
async function replay(file: string, database: string, ...args: string[]): Promise<{ target: string; state: string; run: (...more: string[]) => ReturnType<typeof runCli> }> {
  const target = uniqueName('fx');
  targets.push(target);
  await replica.query(`CREATE DATABASE ${target}`);
  const state = join(scratch.path, `${target}.sqlite`);
  const run = (...more: string[]): ReturnType<typeof runCli> =>
    runCli(['replay', '--replica', testServers().replica.userUrl, '--databases', database, '--rewrite-db', `${database}=${target}`, '--state', state, ...args, ...more, fixture(file)]);
  return { target, state, run };
}

async function rows(sql: string): Promise<unknown[]> {
  const [result] = await replica.query({ sql, rowsAsArray: true });
  return result as unknown[];
}

beforeAll(async () => {
  replica = await adminConnection('replica');
});

afterAll(async () => {
  await replica?.end();
  await dropDatabases(targets);
  scratch.cleanup();
});

// (Numbers as the test connection returns them: strings, exact.)
// The values rust_mysql_common's src/binlog/mod.rs asserts for mysql-enum-string-set.000001 (MySQL 8.0.28):
// CREATE TABLE t(f1 CHAR(128), f2 VARCHAR(300), f3 ENUM('var1', 'variant2', 'foo'), f4 SET('one', 'two', 'three', 'four'), f5 TEXT),
// then an insert, an update of that row and its delete, each a transaction of GTID 93e95066-a2f4-11ec-9b69-9657f0ae95e2:3 to :5
// (the CREATE TABLE is :2 and ends at 791, as `mariadb-binlog` shows).
const UUID = '93e95066-a2f4-11ec-9b69-9657f0ae95e2';
const DIGITS_100 = '0123456789'.repeat(10);
const LONG =
  '0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456780123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456780123456789012345678901234567890123456789';

describe('replay of recorded MySQL 8 and MariaDB 10.5 binlogs', () => {
  it('mysql-enum-string-set.000001 (8.0.28): its CREATE TABLE under an unknown collation (255), its rows as documented, transaction by transaction', async () => {
    const { target, run } = await replay('mysql-enum-string-set.000001', 'mysql');
    const select = `SELECT f1, f2, f3, f3 + 0, f4, f4 + 0, f5 FROM ${target}.t`;
    // MariaDB before 11.4 has no utf8mb4_0900_ai_ci (id 255): the DDL runs under the replica session's collations, saying so.
    let result = await run('--stop-gtid', `${UUID}:3`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("the replica does not know the character set or collation the source ran this CREATE TABLE under");
    expect(result.stderr).toContain("Unknown collation: '255'");
    expect(await rows(select)).toEqual([[DIGITS_100, LONG, 'var1', '1', 'one,three', String(0b101), '0123456789']]);
    result = await run('--stop-gtid', `${UUID}:4`);
    expect(result.code, result.stderr).toBe(0);
    expect(await rows(select)).toEqual([['field1', 'field_2', 'variant2', '2', 'two,four', String(0b1010), LONG]]);
    result = await run();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^replayed 1 transactions \(1 rows\) of 1 files; the replica is at mysql-enum-string-set\.000001:3331;/);
    expect(await rows(select)).toEqual([]);
  });

  it('mariadb-bin.000001 (MariaDB 10.5.15, full row metadata): the two outbox rows, into the table as its metadata defines it', async () => {
    const { target, run } = await replay('mariadb-bin.000001', 'toddy_test');
    // The table as the file's table map describes it (`mariadb-binlog --print-table-metadata`); the file holds no DDL.
    await replica.query(
      `CREATE TABLE ${target}.outbox (id INT NOT NULL PRIMARY KEY, topic VARCHAR(255) NOT NULL, ` +
        "event_type ENUM('BLOB','JSON','PROTOBUF'), event BLOB NOT NULL, created TIMESTAMP NOT NULL) CHARACTER SET utf8mb4",
    );
    const result = await run();
    expect(result.code, result.stderr).toBe(0);
    expect(await rows(`SELECT id, topic, event_type, CAST(event AS CHAR), UNIX_TIMESTAMP(created) FROM ${target}.outbox ORDER BY id`)).toEqual([
      [62, 'foo', 'JSON', '{"foo":1}', '1650493084'],
      [63, 'foo', 'JSON', '{"foo":1}', '1650493195'],
    ]);
  });

  it('transaction_compression.000001 (8.0.32): the compressed transaction is opened, and refused for its table map without metadata', async () => {
    // test.tb1 is named only inside the zstd payload: decompressed, its table map is read, and it lacks the column metadata.
    const { target, run } = await replay('transaction_compression.000001', 'test');
    const result = await run();
    expect(result.stderr).toMatch(/\nbinlog-sync: the binlog maps table test\.tb1 without its columns' names and types \(written with binlog_row_metadata other than FULL\); .*set binlog_row_metadata=FULL on the source for the binlogs to come\n$/);
    expect(result.code).toBe(1);
    expect(await rows(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${target}'`)).toEqual([]);
  });

  it.each([

    ['binlog_transaction_with_GTID_TAG.000001', /^binlog-sync: the binlog maps table test\.orders without its columns' names and types .*set binlog_row_metadata=FULL on the source for the binlogs to come\n$/],
    // (Its CREATE TABLE, whose generated columns use MySQL's `->>`, which MariaDB cannot parse.)
    ['json.binlog.000001', /^binlog-sync: applying CREATE TABLE on mysql\.t at json\.binlog\.000001:491 failed on the replica: You have an error in your SQL syntax; .* \(error 1064\)\n$/],
  ])('%s is refused in one line, exit 1', async (file, message) => {
    const database = file.startsWith('binlog_transaction_with_GTID_TAG') ? 'test' : 'mysql';
    const { target, run } = await replay(file, database);
    const result = await run();
    expect(result.stderr.split('\n').filter((l) => l.startsWith('binlog-sync:'))).toHaveLength(1);
    expect(result.stderr.slice(result.stderr.indexOf('binlog-sync:'))).toMatch(message);
    expect(result.code).toBe(1);
    expect(await rows(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${target}'`)).toEqual([]);
  });

  it('binlog-invisible-columns.000001 (8.0.26): its INVISIBLE columns made invisible on MariaDB too, its rows as mariadb-binlog prints them', async () => {
    const { target, run } = await replay('binlog-invisible-columns.000001', 'mysql');
    const select = `SELECT f1, f2, f3, f4, HEX(f5), f6 FROM ${target}.t1 ORDER BY f3 DESC`;
    let result = await run('--stop-position', 'binlog-invisible-columns.000001:1438');
    expect(result.code, result.stderr).toBe(0);
    expect(await rows(select)).toEqual([
      [1, 2, -3, '4', '05', '6000000000'],
      [null, null, -33, '44', '55', null],
    ]);
    // (MariaDB has INVISIBLE columns too: SELECT * leaves them out, as on the source.)
    expect(await rows(`SELECT COLUMN_NAME, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${target}' AND TABLE_NAME = 't1' AND EXTRA LIKE '%INVISIBLE%' ORDER BY ORDINAL_POSITION`)).toEqual([
      ['f1', 'INVISIBLE'],
      ['f2', 'INVISIBLE'],
      ['f6', 'INVISIBLE'],
    ]);
    result = await run();
    expect(result.code, result.stderr).toBe(0);
    expect(await rows(select)).toEqual([
      [1, 2, -3, '4', '05', '6000000000'],
      [111, 222, -333, '444', '55', null],
    ]);
  });

  // The values rust_mysql_common's tests assert for vector.binlog (MySQL 9.0.1): dtb.foo (id SERIAL, vector_column VECTOR(3)),
  // its rows (1, float32 bytes of [1.1, 2.2, 3.3]) and (2, of [1, -1, 0]), as bytes; bar's VECTOR(2) and VECTOR(4) beside a TEXT.
  const FOO = [
    ['1', Buffer.from([205, 204, 140, 63, 205, 204, 12, 64, 51, 51, 83, 64]).toString('hex').toUpperCase()],
    ['2', Buffer.from([0, 0, 128, 63, 0, 0, 128, 191, 0, 0, 0, 0]).toString('hex').toUpperCase()],
  ];

  it('vector.binlog (9.0.1): a VECTOR column is refused in one line on a MariaDB without the type, naming what to do', async () => {
    const { target, run } = await replay('vector.binlog', 'dtb');
    // (The file begins with CREATE DATABASE dtb: the database is made by the replay.)
    await replica.query(`DROP DATABASE ${target}`);
    const result = await run();
    expect(result.code).toBe(1);
    const line = result.stderr.slice(result.stderr.indexOf('binlog-sync:'));
    expect(line).toMatch(/^binlog-sync: applying CREATE TABLE on dtb\.foo at .* failed on the replica: Unknown data type: 'VECTOR' \(error 4161\); the statement declares a VECTOR column \(MySQL 9\), a type this replica does not have \(MariaDB has it from 11\.7\): create the table on the replica by hand with each VECTOR\(n\) column as VARBINARY\(4\*n\), .*\n$/);
    expect(await rows(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${target}'`)).toEqual([]);
  });

  it('vector.binlog (9.0.1): its VECTOR values as their bytes, into VARBINARY columns made by hand, as documented', async () => {
    const { target, state, run } = await replay('vector.binlog', 'dtb');
    await replica.query(`CREATE TABLE ${target}.foo (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, vector_column VARBINARY(12) NOT NULL)`);
    await replica.query(`CREATE TABLE ${target}.bar (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, vector_column VARBINARY(8) NOT NULL, foo TEXT, vector_column2 VARBINARY(16) NOT NULL)`);
    // Past its DDL (the CREATE TABLE bar ends at 851), to before its DROP DATABASE (at 1432).
    const set = await runCli(['position', 'set', '--file', 'vector.binlog', '--pos', '851', '--replica', testServers().replica.userUrl, '--state', state]);
    expect(set.code, set.stderr).toBe(0);
    const result = await run('--stop-position', 'vector.binlog:1432');
    expect(result.code, result.stderr).toBe(0);
    expect(await rows(`SELECT CAST(id AS CHAR), HEX(vector_column) FROM ${target}.foo ORDER BY id`)).toEqual(FOO);
    // bar's row 1 as the file holds it (`mariadb-binlog -vv`): 8 and 16 bytes of float32, and its TEXT.
    expect(await rows(`SELECT LENGTH(vector_column), foo, LENGTH(vector_column2) FROM ${target}.bar ORDER BY id`)).toEqual([
      [8, null, 16],
      [8, 'bar', 16],
    ]);
  });
});
