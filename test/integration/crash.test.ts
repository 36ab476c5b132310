// Exactly once across SIGKILL: the position commits with the rows on the
// replica, so a replicator killed at any instant and started again neither
// loses nor repeats a transaction, even in a table without a primary key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, dropDatabases, uniqueName } from '../support/context.js';
import { expectIdentical } from '../support/compare.js';
import { startReplication, type Replication } from '../support/replication.js';

const db = uniqueName('crash');
let source: Connection;
let replication: Replication;

beforeAll(async () => {
  source = await adminConnection('source');
  replication = await startReplication({ databases: [db] });
  await source.query(`CREATE DATABASE \`${db}\``);
  // No primary key: a transaction applied twice shows as extra rows.
  await source.query(`CREATE TABLE \`${db}\`.ledger (txn INT NOT NULL, part TINYINT NOT NULL, note VARCHAR(20))`);
  await source.query(`CREATE TABLE \`${db}\`.counter (id INT PRIMARY KEY, n INT NOT NULL)`);
  await source.query(`CREATE TABLE \`${db}\`.shape (id INT PRIMARY KEY)`);
  await source.query(`INSERT INTO \`${db}\`.counter VALUES (1, 0)`);
});

afterAll(async () => {
  await replication?.close();
  await source?.end();
  await dropDatabases([db]);
});

async function writeTransactions(from: number, count: number): Promise<void> {
  for (let k = from; k < from + count; k++) {
    await source.query('START TRANSACTION');
    await source.query(`INSERT INTO \`${db}\`.ledger VALUES (?, 1, 'first'), (?, 2, 'second')`, [k, k]);
    await source.query(`UPDATE \`${db}\`.counter SET n = n + 1 WHERE id = 1`);
    await source.query('COMMIT');
    // Now and then a DDL in the stream, which cannot commit with the position.
    if (k % 150 === 0) await source.query(`ALTER TABLE \`${db}\`.shape ADD COLUMN c${k} INT`);
  }
}

describe('SIGKILL at any instant', () => {
  it('neither loses nor repeats a transaction across repeated kills and restarts', async () => {
    const total = 1500;
    const writing = writeTransactions(0, total);
    let kills = 0;
    let done = false;
    void writing.then(() => (done = true));
    while (!done || kills < 3) {
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
      await replication.kill();
      kills++;
      replication.start();
      if (kills > 12) break;
    }
    await writing;
    await replication.caughtUp(120_000);

    const [rows] = await source.query(`SELECT COUNT(*) AS n, COUNT(DISTINCT txn) AS txns FROM \`${db}\`.ledger`);
    expect(rows).toEqual([{ n: String(total * 2), txns: String(total) }]);
    const image = await expectIdentical(db);
    expect(image.tables.ledger!.rows).toHaveLength(total * 2);
    expect(kills).toBeGreaterThanOrEqual(3);
  });

  it('never shows part of a large transaction that follows a backlog of small ones, even across a kill', async () => {
    await source.query(`CREATE TABLE \`${db}\`.bulk (batch INT NOT NULL, n INT NOT NULL)`);
    await replication.caughtUp();
    await replication.stop();
    for (let i = 0; i < 200; i++) await source.query(`INSERT INTO \`${db}\`.ledger VALUES (?, 1, 'small')`, [100_000 + i]);
    await source.query(`INSERT INTO \`${db}\`.bulk SELECT 1, seq FROM mysql.seq_1_to_60000`); // one transaction
    replication.start();
    const replica = await adminConnection('replica');
    const seen = new Set<number>();
    const deadline = Date.now() + 60_000;
    let killed = false;
    for (;;) {
      const [rows] = await replica.query(`SELECT COUNT(*) AS n FROM \`${db}\`.bulk`);
      const n = Number((rows as Array<{ n: string }>)[0]!.n);
      seen.add(n);
      if (!killed && n === 0 && replication.isStreaming()) {
        await new Promise((r) => setTimeout(r, 150));
        await replication.kill(); // somewhere in the backlog or the large transaction
        killed = true;
        replication.start();
      }
      if (n === 60_000 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await replica.end();
    await replication.caughtUp();
    expect(killed).toBe(true); // once it streamed, before the large transaction showed
    expect([...seen].every((n) => n === 0 || n === 60_000)).toBe(true);
    await expectIdentical(db);
  });

  it('re-runs a DDL that a crash interrupted after it took effect but before its position was recorded', async () => {
    await replication.caughtUp();
    await replication.stop();
    // The state a kill between "DDL executed" and "position recorded" leaves:
    // the DDL done on the replica, marked as started, the position before it.
    await source.query(`ALTER TABLE \`${db}\`.shape ADD COLUMN after_crash INT`);
    const replica = await adminConnection('replica');
    await replica.query(`ALTER TABLE \`${db}\`.shape ADD COLUMN after_crash INT`);
    await replica.query('UPDATE binlog_sync.positions SET pending_ddl = ? WHERE stream_id = ?', [
      `ALTER TABLE \`${db}\`.shape ADD COLUMN after_crash INT`,
      replication.streamId(),
    ]);
    await replica.end();
    await source.query(`INSERT INTO \`${db}\`.shape (id, after_crash) VALUES (1, 42)`);
    replication.start();
    await replication.caughtUp();
    await expectIdentical(db);
  });
});
