// Row changes as the replica SQL thread would reproduce them: inserts,
// updates (also of the primary key), deletes, multi-row and multi-statement
// transactions, partly replicated transactions, a 50,000-row transaction,
// tables without a key holding duplicates, foreign-key cascades, triggers,
// and the three row images.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, dropDatabases, uniqueName } from '../support/context.js';
import { expectIdentical, imageOf } from '../support/compare.js';
import { startReplication, type Replication } from '../support/replication.js';

const db = uniqueName('dml');
const other = uniqueName('dml_other');
let source: Connection;
let replication: Replication;

const t = (name: string): string => `\`${db}\`.\`${name}\``;

beforeAll(async () => {
  source = await adminConnection('source');
  replication = await startReplication({ databases: [db] });
  await source.query(`CREATE DATABASE \`${db}\``);
  await source.query(`CREATE DATABASE \`${other}\``);
  await source.query(`CREATE TABLE \`${other}\`.audit (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(50))`);
});

afterAll(async () => {
  await replication?.close();
  await source?.end();
  await dropDatabases([db, other]);
});

describe('row changes', () => {
  it('applies inserts, updates (also of the primary key) and deletes, single and multi-row', async () => {
    await source.query(`CREATE TABLE ${t('parks')} (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, visitors BIGINT)`);
    await source.query(`INSERT INTO ${t('parks')} VALUES (1, 'Efteling', 100), (2, 'Phantasialand', 200), (3, 'Europa-Park', 300)`);
    await source.query(`INSERT INTO ${t('parks')} VALUES (4, 'Tivoli', NULL)`);
    await source.query(`UPDATE ${t('parks')} SET visitors = visitors + 1 WHERE id <= 2`);
    await source.query(`UPDATE ${t('parks')} SET id = 10 WHERE id = 3`);
    await source.query(`UPDATE ${t('parks')} SET id = id + 100 ORDER BY id DESC`);
    await source.query(`DELETE FROM ${t('parks')} WHERE id = 101`);
    await replication.caughtUp();
    const image = await expectIdentical(db);
    expect(image.tables.parks!.rows).toHaveLength(3);
  });

  it('applies a multi-statement transaction as one, and only the replicated part of a mixed one', async () => {
    await source.query('START TRANSACTION');
    await source.query(`INSERT INTO ${t('parks')} VALUES (5, 'Gardaland', 5)`);
    await source.query(`INSERT INTO \`${other}\`.audit (note) VALUES ('not replicated')`);
    await source.query(`UPDATE ${t('parks')} SET name = 'Gardaland Resort' WHERE id = 5`);
    await source.query(`DELETE FROM ${t('parks')} WHERE id = 102`);
    await source.query('COMMIT');
    await source.query('START TRANSACTION');
    await source.query(`INSERT INTO ${t('parks')} VALUES (6, 'rolled back', 0)`);
    await source.query('ROLLBACK');
    await replication.caughtUp();
    await expectIdentical(db);
    const replica = await adminConnection('replica');
    const [schemas] = await replica.query('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [other]);
    await replica.end();
    expect(schemas).toEqual([]);
  });

  it('follows a rolled-back transaction that changed a non-transactional table: only that change stays', async () => {
    await source.query(`CREATE TABLE ${t('visits_log')} (id INT PRIMARY KEY, note VARCHAR(20)) ENGINE=MyISAM`);
    await source.query(`INSERT INTO ${t('parks')} VALUES (7, 'before', 7)`);
    await source.query('START TRANSACTION');
    await source.query(`UPDATE ${t('parks')} SET name = 'rolled back' WHERE id = 7`);
    await source.query(`INSERT INTO ${t('visits_log')} VALUES (1, 'kept')`); // MyISAM: stays (binlogged on its own in ROW format)
    await source.query('ROLLBACK');
    await source.query(`INSERT INTO ${t('parks')} VALUES (8, 'after', 8)`);
    await replication.caughtUp();
    const image = await expectIdentical(db);
    expect(image.tables.visits_log!.rows).toHaveLength(1);
  });

  it('applies multi-row updates that a unique key only allows in the source row order', async () => {
    await source.query(`CREATE TABLE ${t('ranks')} (id INT PRIMARY KEY, place INT NOT NULL, UNIQUE KEY (place))`);
    await source.query(`INSERT INTO ${t('ranks')} SELECT seq, seq FROM mysql.seq_1_to_300`);
    // Succeeds on the source only because rows change from the highest place down.
    await source.query(`UPDATE ${t('ranks')} SET place = place + 1 ORDER BY place DESC`);
    await source.query(`UPDATE ${t('ranks')} SET place = place - 1 ORDER BY place ASC`);
    await replication.caughtUp();
    const image = await expectIdentical(db);
    expect(image.tables.ranks!.rows).toHaveLength(300);
  });

  it('applies tables with generated columns and latin1 keys', async () => {
    await source.query(
      `CREATE TABLE ${t('gen')} (id INT PRIMARY KEY, a INT, b INT AS (a * 2) VIRTUAL, c VARCHAR(20) AS (CONCAT('v', a)) STORED, KEY (c))`,
    );
    await source.query(`CREATE TABLE ${t('latin')} (code VARCHAR(10) CHARACTER SET latin1 PRIMARY KEY, v INT)`);
    await source.query(`INSERT INTO ${t('gen')} (id, a) VALUES (1, 1), (2, 2), (3, 3)`);
    await source.query(`INSERT INTO ${t('gen')} (id, a) SELECT seq, seq FROM mysql.seq_100_to_299`); // loaded as a file
    await source.query(`UPDATE ${t('gen')} SET a = a + 10`);
    await source.query(`DELETE FROM ${t('gen')} WHERE id < 3 OR id >= 100`);
    await source.query(`INSERT INTO ${t('latin')} VALUES ('café', 1), ('naïve', 2), ('x', 3)`);
    await source.query(`UPDATE ${t('latin')} SET v = v + 1`);
    await source.query(`DELETE FROM ${t('latin')} WHERE v > 2`);
    await replication.caughtUp();
    const image = await expectIdentical(db);
    expect(image.tables.gen!.rows).toHaveLength(1);
    expect(image.tables.latin!.rows).toHaveLength(1);
    expect(await replication.reconnects()).toBe(0); // no group had to be applied again one transaction at a time
  });

  it('applies a transaction of 50,000 rows', async () => {
    await source.query(`CREATE TABLE ${t('waits')} (id INT PRIMARY KEY, ride INT, minutes INT, note VARCHAR(40))`);
    await source.query('START TRANSACTION');
    for (let start = 0; start < 50_000; start += 5_000) {
      const values = Array.from({ length: 5_000 }, (_, i) => `(${start + i}, ${(start + i) % 97}, ${(start + i) % 180}, 'wait ${start + i}')`);
      await source.query(`INSERT INTO ${t('waits')} VALUES ${values.join(',')}`);
    }
    await source.query(`UPDATE ${t('waits')} SET minutes = minutes + 1 WHERE id % 2 = 0`);
    await source.query('COMMIT');
    await replication.caughtUp(120_000);
    const image = await expectIdentical(db);
    expect(image.tables.waits!.rows).toHaveLength(50_000);
  });

  it('applies a backlog of transactions whose statements change the same row one after another, at full speed', async () => {
    // As sysbench's oltp_write_only does: two updates of one row, then it is deleted and inserted again.
    await source.query(`CREATE TABLE ${t('counters')} (id INT PRIMARY KEY, n INT NOT NULL, note VARCHAR(40))`);
    await source.query(`INSERT INTO ${t('counters')} VALUES (1, 0, 'a'), (2, 0, 'b')`);
    await replication.caughtUp();
    await replication.stop();
    for (let i = 0; i < 300; i++) {
      await source.query(
        `START TRANSACTION; UPDATE ${t('counters')} SET n = n + 1 WHERE id = 1; UPDATE ${t('counters')} SET n = n + 1, note = ? WHERE id = 1;
         DELETE FROM ${t('counters')} WHERE id = 2; INSERT INTO ${t('counters')} VALUES (2, ?, 'b'); COMMIT`,
        [`pass ${i}`, i],
      );
    }
    replication.start();
    await replication.caughtUp();
    const replica = await adminConnection('replica');
    const [rows] = await replica.query(`SELECT id, n, note FROM ${t('counters')} ORDER BY id`);
    await replica.end();
    expect(rows).toEqual([
      { id: 1, n: 600, note: 'pass 299' },
      { id: 2, n: 299, note: 'b' },
    ]);
    // Applied in groups throughout: no group had to be applied again one transaction at a time.
    expect(await replication.reconnects()).toBe(0);
  });

  it('changes exactly one of several identical rows in a table without a primary key', async () => {
    await source.query(`CREATE TABLE ${t('dups')} (a INT, b VARCHAR(10))`);
    await source.query(`INSERT INTO ${t('dups')} VALUES (1, 'x'), (1, 'x'), (1, 'x'), (2, 'y'), (2, 'y')`);
    await source.query(`UPDATE ${t('dups')} SET b = 'changed' WHERE a = 1 LIMIT 1`);
    await source.query(`DELETE FROM ${t('dups')} WHERE a = 2 LIMIT 1`);
    await source.query(`UPDATE ${t('dups')} SET a = 3 WHERE b = 'x'`);
    await replication.caughtUp();
    const image = await expectIdentical(db);
    expect(image.tables.dups!.rows).toHaveLength(4);
  });

  it('lets the replica cascade foreign keys, whose child changes the binlog does not carry', async () => {
    await source.query(`CREATE TABLE ${t('rides')} (id INT PRIMARY KEY, park_id INT, name VARCHAR(40), UNIQUE KEY (name))`);
    await source.query(
      `CREATE TABLE ${t('ride_waits')} (id INT PRIMARY KEY, ride_id INT, minutes INT,
        FOREIGN KEY (ride_id) REFERENCES ${t('rides')} (id) ON DELETE CASCADE ON UPDATE CASCADE)`,
    );
    await source.query(`INSERT INTO ${t('rides')} VALUES (1, 1, 'Baron 1898'), (2, 1, 'Python'), (3, 2, 'Taron')`);
    await source.query(`INSERT INTO ${t('ride_waits')} VALUES (1, 1, 10), (2, 1, 20), (3, 2, 5), (4, 3, 45)`);
    await source.query(`DELETE FROM ${t('rides')} WHERE id = 1`);
    await source.query(`UPDATE ${t('rides')} SET id = 30 WHERE id = 3`);
    await replication.caughtUp();
    const image = await expectIdentical(db);
    expect(image.tables.ride_waits!.rows).toHaveLength(2);
  });

  it('applies what a trigger did once and creates no trigger on the replica', async () => {
    await source.query(`CREATE TABLE ${t('log')} (id INT AUTO_INCREMENT PRIMARY KEY, ride INT)`);
    await source.query(`CREATE TRIGGER \`${db}\`.ride_log AFTER INSERT ON ${t('rides')} FOR EACH ROW INSERT INTO ${t('log')} (ride) VALUES (NEW.id)`);
    await source.query(`INSERT INTO ${t('rides')} VALUES (4, 2, 'Black Mamba'), (5, 2, 'Colorado')`);
    await replication.caughtUp();
    const image = await expectIdentical(db);
    expect(image.tables.log!.rows).toHaveLength(2);
    const replica = await adminConnection('replica');
    const [triggers] = await replica.query('SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?', [db]);
    await replica.end();
    expect(triggers).toEqual([]);
  });

  it.each(['MINIMAL', 'NOBLOB'])('works with binlog_row_image=%s', async (rowImage) => {
    const table = t(`img_${rowImage.toLowerCase()}`);
    const nokey = t(`img_${rowImage.toLowerCase()}_nokey`);
    await source.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, a INT DEFAULT 7, b TEXT, c VARCHAR(20) DEFAULT 'dflt', d BLOB)`);
    await source.query(`CREATE TABLE ${nokey} (a INT, b TEXT, c VARCHAR(20))`);
    await source.query(`SET SESSION binlog_row_image = ${rowImage}`);
    try {
      await source.query(`INSERT INTO ${table} (id, b) VALUES (1, 'text one'), (2, 'text two')`);
      await source.query(`INSERT INTO ${table} VALUES (3, NULL, NULL, NULL, NULL)`);
      await source.query(`UPDATE ${table} SET a = NULL WHERE id = 1`);
      await source.query(`UPDATE ${table} SET b = 'new text', d = X'00FF' WHERE id = 2`);
      await source.query(`UPDATE ${table} SET id = 4 WHERE id = 3`);
      await source.query(`DELETE FROM ${table} WHERE id = 1`);
      await source.query(`INSERT INTO ${nokey} VALUES (1, 'x', 'y'), (1, 'x', 'y'), (2, NULL, 'z')`);
      await source.query(`UPDATE ${nokey} SET c = 'changed' WHERE a = 1 LIMIT 1`);
      await source.query(`DELETE FROM ${nokey} WHERE a = 2`);
    } finally {
      await source.query('SET SESSION binlog_row_image = FULL');
    }
    await replication.caughtUp();
    const image = await expectIdentical(db);
    expect(image.tables[`img_${rowImage.toLowerCase()}`]!.rows).toHaveLength(2);
    expect(image.tables[`img_${rowImage.toLowerCase()}_nokey`]!.rows).toHaveLength(2);
  });

  it('leaves other databases alone and shows no other database on the replica', async () => {
    const replica = await adminConnection('replica');
    const image = await imageOf(replica, other);
    await replica.end();
    expect(image.tables).toEqual({});
  });
});
