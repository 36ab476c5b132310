// `snapshot` seeds an empty replica at one exact position while the source
// keeps taking writes; `start` then brings it to an identical copy; `verify`
// proves it, and names exactly the tables that drift afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql, { type Connection } from 'mysql2/promise';
import { EXACT_VALUES, backgroundLoad, runCli, uniqueName } from '../support/context.js';
import { expectIdentical } from '../support/compare.js';
import { Replication } from '../support/replication.js';
import { type ManagedServer, destroyServers, startServerPair } from '../support/servers.js';

const db = uniqueName('snap');
const other = uniqueName('snap_other');
let sourceServer: ManagedServer;
let replicaServer: ManagedServer;
let replication: Replication;
let source: Connection;
const BIG_ROWS = 200_000;

const servers = () => ({ source: sourceServer.info, replica: replicaServer.info });

beforeAll(async () => {
  [sourceServer, replicaServer] = await startServerPair([81, 82], ['Asia/Kolkata', 'America/Anchorage']);
  replication = new Replication({ databases: [db], source: sourceServer.info, replica: replicaServer.info });
  source = await mysql.createConnection({ uri: sourceServer.info.adminUrl, ...EXACT_VALUES });
  await source.query("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'");
  await source.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`);
  await source.query(`CREATE DATABASE \`${other}\``);
  await source.query(`USE \`${db}\``);
  await source.query(`CREATE TABLE big (id INT PRIMARY KEY, n BIGINT UNSIGNED, d DECIMAL(30,10), f FLOAT, x DOUBLE, dt DATETIME(6), ts TIMESTAMP(6) NULL,
    t TIME(6), y YEAR, b BIT(12), e ENUM('a','b,c','it''s'), s SET('x','q''r'), v VARCHAR(64), l VARCHAR(20) CHARACTER SET latin1, bl BLOB, j JSON, g POINT)`);
  await source.query(`INSERT INTO big SELECT seq, 18446744073709551615 - seq, seq / 7, seq / 3, seq / 11,
      '2024-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL (seq % 1000000) MICROSECOND,
      IF(seq % 5 = 0, NULL, FROM_UNIXTIME(1700000000 + seq) + INTERVAL (seq % 999) MICROSECOND),
      IF(seq % 2, '-12:34:56.5', '838:59:59'), 1901 + seq % 255, seq % 4096, ELT(1 + seq % 3, 'a', 'b,c', 'it''s'), IF(seq % 2, 'x,q''r', ''),
      CONCAT('row ', seq, ' ☃'), CONVERT(CONCAT('caf', CHAR(233), seq) USING latin1), UNHEX(MD5(seq)), JSON_OBJECT('k', seq), POINT(seq, -seq)
    FROM mysql.seq_1_to_${BIG_ROWS}`);
  await source.query('CREATE TABLE nokey (a INT, b VARCHAR(10))');
  await source.query("INSERT INTO nokey SELECT seq % 100, 'dup' FROM mysql.seq_1_to_20000");
  await source.query('CREATE TABLE parent (id INT PRIMARY KEY)');
  await source.query('CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE)');
  await source.query('INSERT INTO parent SELECT seq FROM mysql.seq_1_to_1000');
  await source.query('INSERT INTO child SELECT seq, 1 + seq % 1000 FROM mysql.seq_1_to_5000');
  await source.query(`CREATE TABLE \`${other}\`.secret (id INT PRIMARY KEY)`);
  await source.query(`INSERT INTO \`${other}\`.secret VALUES (1)`);
});

afterAll(async () => {
  await replication?.close();
  await source?.end();
  await destroyServers(sourceServer, replicaServer);
});

/** A steady write load on the source until stopped. */
function writeLoad(): { stop: () => Promise<number> } {
  return backgroundLoad(
    () => mysql.createConnection({ uri: sourceServer.info.adminUrl }),
    async (conn, i) => {
      await conn.query(`UPDATE \`${db}\`.big SET v = CONCAT('updated ', ?), ts = NOW(6) WHERE id = ?`, [i, 1 + ((i * 7919) % BIG_ROWS)]);
      await conn.query(`INSERT INTO \`${db}\`.big (id, v) VALUES (?, 'new during snapshot')`, [BIG_ROWS + i]);
      await conn.query(`DELETE FROM \`${db}\`.child WHERE id = ?`, [i]);
      await conn.query(`DELETE FROM \`${db}\`.nokey WHERE a = ? LIMIT 1`, [i % 100]);
    },
  );
}

describe('snapshot', () => {
  it('seeds an empty replica while the source takes writes, and start then makes it identical', async () => {
    const load = writeLoad();
    const result = await replication.cli(['snapshot', ...replication.commonArgs]);
    expect(result.stderr).not.toMatch(/binlog-sync: /);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^snapshot of 4 tables \(\d+ rows, \d+ rows\/s\) at mysql-bin\.\d+:\d+ gtid \S+; `start` continues from there\n$/);
    console.log(`snapshot: ${result.stdout.trim()}`);
    replication.start();
    await new Promise((r) => setTimeout(r, 1000));
    const writes = await load.stop();
    await replication.caughtUp(120_000);
    expect(writes).toBeGreaterThan(10);
    const image = await expectIdentical(db, db, servers());
    expect(image.tables.big!.rows.length).toBeGreaterThanOrEqual(BIG_ROWS);
    const replica = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
    const [schemas] = await replica.query('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [other]);
    await replica.end();
    expect(schemas).toEqual([]);
  });

  it('refuses a replica whose tables hold rows unless --drop-existing, and replaces them with it', async () => {
    await replication.stop();
    const again = await replication.cli(['snapshot', ...replication.commonArgs]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/binlog-sync: the replica already holds rows in .*\.big.*; run `binlog-sync snapshot --drop-existing` to replace them\n$/);
    const dropped = await replication.cli(['snapshot', '--drop-existing', ...replication.commonArgs]);
    expect(dropped.code).toBe(0);
    replication.start();
    await replication.caughtUp();
  });
});

describe('verify', () => {
  it('exits 0 on an identical replica', async () => {
    const result = await runCli(['verify', '--json', ...replication.commonArgs]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { identical: boolean; tables: Array<{ table: string; status: string; rows: number }> };
    expect(report.identical).toBe(true);
    expect(report.tables.map((t) => t.table).sort()).toEqual([`${db}.big`, `${db}.child`, `${db}.nokey`, `${db}.parent`]);
    expect(report.tables.every((t) => t.status === 'identical')).toBe(true);
  });

  it('names exactly the two tables changed on the replica, with their keys', async () => {
    const replica = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
    await replica.query(`UPDATE \`${db}\`.big SET v = 'drift' WHERE id IN (777, 778)`);
    await replica.query('SET SESSION foreign_key_checks = 0'); // no cascade: only this table drifts
    await replica.query(`DELETE FROM \`${db}\`.parent WHERE id = 999`);
    await replica.end();
    const result = await runCli(['verify', '--json', ...replication.commonArgs]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { identical: boolean; tables: Array<{ table: string; status: string; ranges?: unknown[] }> };
    expect(report.identical).toBe(false);
    const different = report.tables.filter((t) => t.status !== 'identical');
    expect(different).toEqual([
      { table: `${db}.big`, status: 'different', rows: expect.any(Number), ranges: [{ from: [777], to: [778] }] },
      { table: `${db}.parent`, status: 'different', rows: expect.any(Number), ranges: [{ from: [999], to: [999] }] },
    ]);
  });
});
