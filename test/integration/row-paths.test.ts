// The two row paths of `start`: row events applied by the replica's own row
// code (BINLOG statements) where the replica's user may and the replica reads
// the source's events, as SQL statements built by binlog-sync otherwise. The
// exactness suites run on both (vitest.config.ts); these tests prove the
// choice itself and what only the BINLOG path has to get right: table maps
// sent with their rows (renamed by --rewrite-db, without the tables not
// replicated), across binlog files and statements that end in a table not
// replicated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, dropDatabases, eventually, testServers, uniqueName } from '../support/context.js';
import { imageOf } from '../support/compare.js';
import { Replication, startReplication } from '../support/replication.js';
import { destroyServers, startServer } from '../support/servers.js';

const onSqlPath = process.env.BINLOG_SYNC_TEST_ROW_APPLIER === 'sql';
let source: Connection;
let replica: Connection;
const databases: string[] = [];
const replications: Replication[] = [];

beforeAll(async () => {
  source = await adminConnection('source');
  replica = await adminConnection('replica');
});

afterAll(async () => {
  for (const r of replications) await r.close();
  await source?.end();
  await replica?.end();
  await dropDatabases(databases);
});

async function comBinlog(): Promise<number> {
  const [rows] = await replica.query("SHOW GLOBAL STATUS LIKE 'Com_binlog'");
  return Number((rows as Array<{ Value: string }>)[0]!.Value);
}

/** Source and replica images of each table, the replica's database named `target`. */
async function expectReplicated(database: string, tables: string[], target = database): Promise<void> {
  const ours = await imageOf(replica, target);
  const theirs = await imageOf(source, database);
  expect(Object.keys(ours.tables).sort()).toEqual([...tables].sort());
  for (const table of tables) expect(ours.tables[table]!.rows, `rows of ${table}`).toEqual(theirs.tables[table]!.rows);
}

/**
 * Starts the replication of a backlog with its first transaction held by a
 * lock on `table` until the whole backlog is read, so that it is applied in
 * commit groups of many transactions (a replica as fast as the source's dump
 * thread would see groups of one or two).
 */
async function holdFirstGroup(holder: Connection, replication: Replication, table: string): Promise<void> {
  await holder.query(`LOCK TABLES ${table} WRITE`);
  replication.start();
  try {
    await eventually(
      async () => {
        const [rows] = await holder.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE STATE LIKE 'Waiting for table metadata lock'");
        return Number((rows as Array<{ n: number }>)[0]!.n);
      },
      (waiting) => waiting > 0,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000)); // a few hundred small transactions are read in well under a second
  } finally {
    await holder.query('UNLOCK TABLES');
    await holder.end();
  }
}

describe('row paths', () => {
  it("applies row events by the replica's own row code, tables renamed by --rewrite-db and those not replicated left out, across binlog files", async () => {
    const db = uniqueName('paths');
    const target = `${db}_dev`;
    databases.push(db, target);
    const replication = await startReplication({
      databases: [db],
      args: ['--rewrite-db', `${db}=${target}`, '--exclude-tables', `${db}.audit,${db}.scores`],
    });
    replications.push(replication);
    await source.query(`CREATE DATABASE \`${db}\``);
    await source.query(`CREATE TABLE \`${db}\`.rides (id INT PRIMARY KEY, name VARCHAR(40), wait INT, note TEXT)`);
    await source.query(`CREATE TABLE \`${db}\`.waits (ride INT, minutes INT)`); // no key: located by its whole image
    await source.query(`CREATE TABLE \`${db}\`.audit (id INT AUTO_INCREMENT PRIMARY KEY, ride INT, at INT)`);
    await source.query(`CREATE TABLE \`${db}\`.scores (ride INT PRIMARY KEY, score INT)`);
    await source.query(`INSERT INTO \`${db}\`.scores VALUES (1, 0), (2, 0), (3, 0)`);
    // A trigger writes the table not replicated within the statements on the replicated ones.
    await source.query(`CREATE TRIGGER \`${db}\`.rides_audit AFTER UPDATE ON \`${db}\`.rides FOR EACH ROW INSERT INTO \`${db}\`.audit (ride, at) VALUES (NEW.id, NEW.wait)`);
    await replication.caughtUp();
    const before = await comBinlog();

    await source.query(`INSERT INTO \`${db}\`.rides VALUES (1, 'Cyclone', 10, NULL), (2, 'Dragon', 20, REPEAT('x', 3000)), (3, 'Comet', 5, 'é')`);
    await source.query(`INSERT INTO \`${db}\`.waits VALUES (1, 10), (1, 10), (2, 20)`);
    await source.query('START TRANSACTION');
    // The statement's last rows event is the trigger's, in the table not replicated: the next statement must still be applied.
    await source.query(`UPDATE \`${db}\`.rides SET wait = wait + 1`);
    await source.query(`DELETE FROM \`${db}\`.waits WHERE ride = 1 LIMIT 1`);
    // A multi-table update of a replicated and a table not replicated.
    await source.query(`UPDATE \`${db}\`.rides r JOIN \`${db}\`.scores s ON s.ride = r.id SET r.note = CONCAT('seen ', r.wait), s.score = s.score + r.wait`);
    await source.query(`UPDATE \`${db}\`.waits SET minutes = minutes * 2`);
    await source.query('COMMIT');
    await source.query('FLUSH BINARY LOGS'); // a new file: its format description event comes first
    await source.query(`INSERT INTO \`${db}\`.rides (id, name, wait) SELECT seq, CONCAT('ride ', seq), seq FROM mysql.seq_10_to_3009`);
    await source.query(`UPDATE \`${db}\`.rides SET name = UPPER(name) WHERE id > 1000`);
    await source.query(`DELETE FROM \`${db}\`.rides WHERE id BETWEEN 2000 AND 2500`);
    await replication.caughtUp();

    await expectReplicated(db, ['rides', 'waits'], target);
    const [[rewritten]] = (await replica.query(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?`, [db])) as unknown as [Array<{ n: number }>];
    expect(Number(rewritten!.n), 'nothing lands under the source database name').toBe(0);
    const status = await replication.status();
    expect(status.runner?.capabilities?.binlogStatements).toBe(!onSqlPath);
    // No table took the SQL path on a run of the BINLOG path (nothing is masked, no event is 8 MiB).
    expect(status.runner?.sqlPathTables).toEqual([]);
    const sent = (await comBinlog()) - before;
    if (onSqlPath) expect(sent).toBe(0);
    else expect(sent).toBeGreaterThanOrEqual(2);
  });

  it('on the SQL path, joins the one-row INSERTs of the transactions of a commit group into a few statements, exactly', async () => {
    const db = uniqueName('joins');
    databases.push(db);
    // A replica of its own: Com_insert counts every session of a server, and
    // other test files write to the shared one meanwhile.
    const own = await startServer({ role: 'replica', serverId: 78 });
    const ownReplica = await adminConnection('replica', own.info);
    const replication = await startReplication({ databases: [db], replica: own.info, env: { BINLOG_SYNC_ROW_APPLIER: 'sql' } });
    try {
      await source.query(`CREATE DATABASE \`${db}\``);
      await source.query(`CREATE TABLE \`${db}\`.visits (id INT AUTO_INCREMENT PRIMARY KEY, ride INT, at DATETIME(3), note VARCHAR(20))`);
      await source.query(`CREATE TABLE \`${db}\`.tallies (ride INT PRIMARY KEY, n INT)`);
      await replication.caughtUp();
      // A backlog: the transactions wait together, and are applied in groups.
      await replication.stop();
      const inserts = async (): Promise<number> => {
        const [rows] = await ownReplica.query("SHOW GLOBAL STATUS LIKE 'Com_insert'");
        return Number((rows as Array<{ Value: string }>)[0]!.Value);
      };
      for (let i = 1; i <= 300; i++) {
        await source.query(`INSERT INTO \`${db}\`.visits (ride, at, note) VALUES (?, NOW(3), ?)`, [i % 7, i % 5 === 0 ? null : `v${i}`]);
        // Now and then a transaction of several kinds and tables between them.
        if (i % 50 === 0) await source.query(`INSERT INTO \`${db}\`.tallies VALUES (${i}, 1) ON DUPLICATE KEY UPDATE n = n + 1`);
        if (i % 60 === 0) await source.query(`DELETE FROM \`${db}\`.visits WHERE id = ${i - 30}`);
      }
      const before = await inserts();
      // The groups are what the reader has queued when the applier takes the next
      // one; a replica as fast as the source's dump thread would see groups of one
      // or two. A lock holds the first transaction until the whole backlog is read.
      const holder = await adminConnection('replica', own.info);
      await holder.query(`LOCK TABLES \`${db}\`.visits WRITE`);
      replication.start();
      await eventually(
        async () => {
          const [rows] = await holder.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE STATE LIKE 'Waiting for table metadata lock'");
          return Number((rows as Array<{ n: number }>)[0]!.n);
        },
        (waiting) => waiting > 0,
      );
      await new Promise((resolve) => setTimeout(resolve, 2000)); // 300 small transactions are read in well under a second
      await holder.query('UNLOCK TABLES');
      await holder.end();
      await replication.caughtUp();
      const ours = await imageOf(ownReplica, db);
      const theirs = await imageOf(source, db);
      for (const table of ['visits', 'tallies']) expect(ours.tables[table]!.rows, `rows of ${table}`).toEqual(theirs.tables[table]!.rows);
      const sent = (await inserts()) - before;
      // 306 INSERTs on the source; far fewer statements here (each joined run ends at the other statements).
      expect(sent).toBeGreaterThan(0);
      expect(sent).toBeLessThan(60);
    } finally {
      await replication.close();
      await ownReplica.end();
      await destroyServers(own);
    }
  });

  it('on the SQL path, joins the one-row DELETEs and UPDATEs by key of the transactions of a commit group into a few statements, exactly', async () => {
    const db = uniqueName('keyjoins');
    databases.push(db);
    // A replica of its own: Com_delete and Com_update count every session of a server.
    const own = await startServer({ role: 'replica', serverId: 79 });
    const ownReplica = await adminConnection('replica', own.info);
    const replication = await startReplication({ databases: [db], replica: own.info, env: { BINLOG_SYNC_ROW_APPLIER: 'sql' } });
    try {
      await source.query(`CREATE DATABASE \`${db}\``);
      await source.query(`CREATE TABLE \`${db}\`.rides (id INT PRIMARY KEY, name VARCHAR(20), wait INT, opened DATE)`);
      await source.query(`CREATE TABLE \`${db}\`.stays (ride INT, day VARCHAR(10), n INT, PRIMARY KEY (ride, day))`);
      await source.query(`CREATE TABLE \`${db}\`.waits (ride INT, minutes INT)`); // no key: located by its whole image, never joined
      await source.query(`INSERT INTO \`${db}\`.rides SELECT seq, CONCAT('r', seq), seq % 17, '2024-05-01' + INTERVAL seq DAY FROM mysql.seq_1_to_400`);
      await source.query(`INSERT INTO \`${db}\`.stays SELECT seq, CONCAT('d', seq % 7), seq FROM mysql.seq_1_to_400`);
      await source.query(`INSERT INTO \`${db}\`.waits SELECT seq % 50, seq % 3 FROM mysql.seq_1_to_200`);
      await replication.caughtUp();
      // A backlog: the transactions wait together, and are applied in groups.
      await replication.stop();
      const counts = async (): Promise<{ deletes: number; updates: number }> => {
        const [rows] = await ownReplica.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_delete', 'Com_delete_multi', 'Com_update', 'Com_update_multi')");
        const value = (prefix: string): number =>
          (rows as Array<{ Variable_name: string; Value: string }>).filter((r) => r.Variable_name.startsWith(prefix)).reduce((n, r) => n + Number(r.Value), 0);
        return { deletes: value('Com_delete'), updates: value('Com_update') };
      };
      const transactions = { deletes: 0, updates: 0 };
      for (let i = 1; i <= 300; i++) {
        await source.query(`UPDATE \`${db}\`.rides SET wait = wait + ?, name = ? WHERE id = ?`, [i, `u${i}`, i]);
        transactions.updates++;
        // The same row again at once: never in one statement with the change before it.
        if (i % 40 === 0) {
          await source.query(`UPDATE \`${db}\`.rides SET wait = wait * 2, name = CONCAT(name, '!') WHERE id = ?`, [i]);
          transactions.updates++;
        }
      }
      for (let i = 1; i <= 300; i++) {
        await source.query(`DELETE FROM \`${db}\`.stays WHERE ride = ? AND day = ?`, [i, `d${i % 7}`]);
        transactions.deletes++;
        // Now and then a transaction of other kinds and tables between them, and keyless rows.
        if (i % 50 === 0) await source.query(`INSERT INTO \`${db}\`.stays VALUES (${i}, 'd${i % 7}', 0)`); // a key deleted just before, back
        if (i % 75 === 0) {
          await source.query(`DELETE FROM \`${db}\`.waits WHERE ride = ${i % 50} LIMIT 1`);
          transactions.deletes++;
        }
      }
      // Transactions of several rows each, by a key of two columns.
      for (let i = 301; i <= 400; i += 4) {
        await source.query(`DELETE FROM \`${db}\`.stays WHERE ride BETWEEN ? AND ?`, [i, i + 3]);
        transactions.deletes++;
      }
      const before = await counts();
      const holder = await adminConnection('replica', own.info);
      await holdFirstGroup(holder, replication, `\`${db}\`.rides`);
      await replication.caughtUp();
      const ours = await imageOf(ownReplica, db);
      const theirs = await imageOf(source, db);
      for (const table of ['rides', 'stays', 'waits']) expect(ours.tables[table]!.rows, `rows of ${table}`).toEqual(theirs.tables[table]!.rows);
      const after = await counts();
      const sent = { deletes: after.deletes - before.deletes, updates: after.updates - before.updates };
      expect(transactions).toEqual({ deletes: 329, updates: 307 });
      // Far fewer statements than transactions (each joined run ends at the other statements, and at a row changed twice).
      expect(sent.deletes).toBeGreaterThan(0);
      expect(sent.deletes).toBeLessThan(60);
      expect(sent.updates).toBeGreaterThan(0);
      expect(sent.updates).toBeLessThan(60);
    } finally {
      await replication.close();
      await ownReplica.end();
      await destroyServers(own);
    }
  });

  it('on the SQL path, a joined DELETE that finds a row missing stops at the transaction of that row, as one statement per transaction does', async () => {
    const db = uniqueName('keyjoinfail');
    databases.push(db);
    const replication = await startReplication({ databases: [db], env: { BINLOG_SYNC_ROW_APPLIER: 'sql' } });
    replications.push(replication);
    await source.query(`CREATE DATABASE \`${db}\``);
    await source.query(`CREATE TABLE \`${db}\`.rides (id INT PRIMARY KEY, name VARCHAR(20))`);
    await source.query(`INSERT INTO \`${db}\`.rides SELECT seq, CONCAT('r', seq) FROM mysql.seq_1_to_200`);
    await replication.caughtUp();
    await replication.stop();
    // The replica has drifted: a row the source will delete is not there.
    await replica.query(`DELETE FROM \`${db}\`.rides WHERE id = 120`);
    let failing = '';
    for (let i = 1; i <= 200; i++) {
      await source.query(`DELETE FROM \`${db}\`.rides WHERE id = ?`, [i]);
      if (i === 120) {
        const [rows] = await source.query('SELECT @@last_gtid AS gtid');
        failing = String((rows as Array<{ gtid: string }>)[0]!.gtid);
      }
    }
    const holder = await adminConnection('replica');
    await holdFirstGroup(holder, replication, `\`${db}\`.rides`);
    const stopped = await replication.exited();
    expect(stopped.code).toBe(1);
    // The joined statement deleted one row less than its transactions: they were applied again one at a time.
    expect(stopped.stderr + stopped.stdout).toMatch(/a statement joining rows of several events changed \d+ of \d+ rows in .*\.rides; applying them one at a time/);
    // And the error is the one transaction's, as without joining (test/integration/unfixable-errors.test.ts).
    const escaped = failing.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
    expect(stopped.stderr).toMatch(new RegExp(`the row to delete in ${db}\\.rides is not on the replica \\(the replica has drifted from the source\\) at GTID ${escaped},`));
    // Everything before the failing transaction is applied, nothing after it.
    const [left] = await replica.query(`SELECT MIN(id) AS low, MAX(id) AS high, COUNT(*) AS n FROM \`${db}\`.rides`);
    expect((left as Array<Record<string, unknown>>).map((r) => [Number(r.low), Number(r.high), Number(r.n)])).toEqual([[121, 200, 80]]);
    // Repaired, it goes on.
    await replica.query(`INSERT INTO \`${db}\`.rides VALUES (120, 'repaired')`);
    replication.start();
    await replication.caughtUp();
    await expectReplicated(db, ['rides']);
  });

  it('applies row events as SQL statements, with one warning naming the grant, when the replica user may not send BINLOG statements', async () => {
    const db = uniqueName('nogrant');
    databases.push(db);
    const user = 'applier_nobinlog';
    const password = 'nobinlog-Pw-5c1e';
    await replica.query(`CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${password}'`);
    await replica.query(`GRANT ALL PRIVILEGES ON *.* TO '${user}'@'%'`);
    // (SUPER would let it send them too.)
    await replica.query(`REVOKE SUPER, BINLOG REPLAY ON *.* FROM '${user}'@'%'`);
    const servers = testServers();
    const replication = await startReplication({
      databases: [db],
      replica: { ...servers.replica, userUrl: `mysql://${user}:${password}@${servers.replica.host}:${servers.replica.port}` },
    });
    replications.push(replication);
    await source.query(`CREATE DATABASE \`${db}\``);
    await source.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, v VARCHAR(20), d DECIMAL(12,4), b BLOB)`);
    await source.query(`CREATE TABLE \`${db}\`.k (v VARCHAR(20), n INT)`);
    await source.query(`INSERT INTO \`${db}\`.t SELECT seq, CONCAT('v', seq), seq / 7, UNHEX(MD5(seq)) FROM mysql.seq_1_to_2000`);
    await source.query(`INSERT INTO \`${db}\`.k VALUES ('a', 1), ('a', 1), ('B', 2)`);
    await source.query(`UPDATE \`${db}\`.t SET d = -d WHERE id % 3 = 0`);
    await source.query(`DELETE FROM \`${db}\`.k WHERE v = 'a' LIMIT 1`);
    await replication.caughtUp();
    await expectReplicated(db, ['t', 'k']);

    const status = await replication.status();
    expect(status.runner?.capabilities?.binlogStatements).toBe(false);
    const log = (replication.output?.stderr ?? '') + (replication.output?.stdout ?? '');
    const warnings = log.split('\n').filter((line) => line.includes('"level":"warn"') || line.includes('"level":40'));
    const grantWarnings = warnings.filter((line) => line.includes('BINLOG REPLAY'));
    if (onSqlPath) {
      expect(grantWarnings).toHaveLength(0); // not even asked: the SQL path was chosen
    } else {
      expect(grantWarnings).toHaveLength(1);
      expect(grantWarnings[0]).toContain(`GRANT BINLOG REPLAY ON *.* TO`);
    }
  });

  it('applies row events exactly on a replica that writes a binlog of its own in STATEMENT format, and logs them there', async () => {
    const db = uniqueName('stmtlog');
    databases.push(db);
    const logging = await startServer({ role: 'replica', serverId: 77, options: { 'log-bin': 'replica-bin', 'binlog-format': 'STATEMENT' } });
    const replication = new Replication({ databases: [db], replica: logging.info });
    try {
      await replication.setCurrentPosition();
      replication.start();
      await source.query(`CREATE DATABASE \`${db}\``);
      await source.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, v VARCHAR(20))`);
      await source.query(`INSERT INTO \`${db}\`.t SELECT seq, CONCAT('v', seq) FROM mysql.seq_1_to_500`);
      await source.query(`UPDATE \`${db}\`.t SET v = UPPER(v) WHERE id % 2 = 0`);
      await source.query(`DELETE FROM \`${db}\`.t WHERE id > 400`);
      await replication.caughtUp();
      const copy = await adminConnection('replica', logging.info);
      try {
        const [[settings]] = (await copy.query('SELECT @@log_bin AS logBin, @@binlog_format AS format')) as unknown as [Array<{ logBin: number; format: string }>];
        expect({ logBin: Number(settings!.logBin), format: settings!.format }).toEqual({ logBin: 1, format: 'STATEMENT' });
        expect((await imageOf(copy, db)).tables.t!.rows).toEqual((await imageOf(source, db)).tables.t!.rows);
        // (The server logs rows applied by BINLOG statements as row events, whatever its format.)
        const [events] = await copy.query(`SHOW BINLOG EVENTS IN 'replica-bin.000001'`);
        const kinds = new Set((events as Array<{ Event_type: string }>).map((e) => e.Event_type));
        expect(kinds.has(onSqlPath ? 'Query' : 'Write_rows_v1')).toBe(true);
      } finally {
        await copy.end();
      }
      expect((await replication.status()).runner?.capabilities?.binlogStatements).toBe(!onSqlPath);
    } finally {
      await replication.close();
      await destroyServers(logging);
    }
  });
});
