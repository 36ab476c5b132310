// XA transactions, which MariaDB 10.5+ logs as two event groups (one that
// prepares, one that commits or rolls back), through the server's own
// replica and binlog-sync from one source: the copies must be equal, each
// XA transaction applied exactly once, also across a SIGKILL between the
// two groups, and `skip` able to pass either group.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { Differential } from '../support/differential.js';
import { EXACT_VALUES, runCli } from '../support/context.js';

const db = 'diff_xa';
let diff: Differential;

beforeAll(async () => {
  diff = await Differential.start({ databases: [db], ids: [101, 102, 103], source: { timeZone: 'Asia/Kolkata' } });
  await diff.run(
    `CREATE DATABASE ${db}`,
    `CREATE TABLE ${db}.acct (id INT PRIMARY KEY, balance DECIMAL(10,2) NOT NULL)`,
    `CREATE TABLE ${db}.audit (at INT NOT NULL, note VARCHAR(40) NOT NULL)`,
    `CREATE DATABASE other_${db}`,
    `CREATE TABLE other_${db}.t (id INT PRIMARY KEY)`,
    `INSERT INTO ${db}.acct VALUES (1, 100), (2, 100), (3, 100)`,
  );
  await diff.synced();
});

afterAll(async () => {
  await diff?.close();
});

/** An XA transaction on a connection of its own, prepared and left so. */
async function prepare(xid: string, ...statements: string[]): Promise<void> {
  const conn = await mysql.createConnection({ uri: diff.source.info.adminUrl, ...EXACT_VALUES });
  const session = conn.threadId;
  try {
    await conn.query(`XA START ${xid}`);
    for (const sql of statements) await conn.query(sql);
    await conn.query(`XA END ${xid}`);
    await conn.query(`XA PREPARE ${xid}`);
  } finally {
    await conn.end();
  }
  // The server lets go of the session a moment after the client has; until then no other may end its transaction.
  for (let i = 0; i < 1000; i++) {
    const [rows] = await diff.sourceConnection.query('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [session]);
    if ((rows as unknown[]).length === 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`XA transaction ${xid} was not released by its session`);
}

/** What the replica holds prepared (XA RECOVER): nothing may be left over once a transaction ended. */
async function preparedOnOurs(): Promise<number> {
  const conn = await mysql.createConnection({ uri: diff.ours.info.adminUrl });
  try {
    const [rows] = await conn.query('XA RECOVER');
    return (rows as unknown[]).length;
  } finally {
    await conn.end();
  }
}

describe('XA transactions, the same as the server own replica', () => {
  it('prepared then committed, prepared then rolled back, and one phase', async () => {
    await prepare("'t1'", `UPDATE ${db}.acct SET balance = balance - 10 WHERE id = 1`, `UPDATE ${db}.acct SET balance = balance + 10 WHERE id = 2`, `INSERT INTO ${db}.audit VALUES (1, 'moved 10')`);
    // Other transactions commit between the prepare and the commit.
    await diff.run(`INSERT INTO ${db}.audit VALUES (2, 'between')`);
    await diff.run(`XA COMMIT 't1'`);
    await prepare("'t2','branch',7", `UPDATE ${db}.acct SET balance = 0 WHERE id = 3`, `INSERT INTO ${db}.audit VALUES (3, 'rolled back')`);
    await diff.run(`XA ROLLBACK 't2','branch',7`);
    await diff.run(`XA START 't3'; INSERT INTO ${db}.audit VALUES (4, 'one phase'); XA END 't3'; XA COMMIT 't3' ONE PHASE`);
    await diff.expectSameAsNative(db);
    expect(await preparedOnOurs()).toBe(0);
    expect(await diff.nativeError()).toBe('');
  });

  it('an XA transaction that touches none of the replicated tables', async () => {
    await prepare("'t4'", `INSERT INTO other_${db}.t VALUES (1)`);
    await diff.run(`XA COMMIT 't4'`);
    await diff.run(`INSERT INTO ${db}.audit VALUES (5, 'after')`);
    await diff.expectSameAsNative(db);
    expect(await preparedOnOurs()).toBe(0);
  });

  it('applies each exactly once when binlog-sync is killed between the prepare and the commit', async () => {
    await prepare("'t5'", `INSERT INTO ${db}.audit VALUES (6, 'prepared before the kill')`, `UPDATE ${db}.acct SET balance = balance + 1 WHERE id = 1`);
    await diff.replication.caughtUp();
    expect(await preparedOnOurs()).toBe(1);
    await diff.replication.kill();
    await diff.run(`XA COMMIT 't5'`);
    diff.replication.start();
    await diff.expectSameAsNative(db);
    expect(await preparedOnOurs()).toBe(0);
  });

  it('does not apply a prepare group twice when it is streamed again (the replica holds it prepared already)', async () => {
    const [before] = (await diff.sourceConnection.query('SELECT @@gtid_binlog_pos AS gtid')) as unknown as [Array<{ gtid: string }>];
    await prepare("'t7'", `INSERT INTO ${db}.audit VALUES (8, 'streamed twice')`);
    await diff.replication.caughtUp();
    await diff.replication.stop();
    // As after a crash between the XA PREPARE and the position's commit: the position is before the prepare group.
    const set = await runCli(['position', 'set', '--gtid', before[0]!.gtid, ...diff.replication.connectionArgs]);
    expect(set.code).toBe(0);
    diff.replication.start();
    await diff.run(`XA COMMIT 't7'`);
    await diff.expectSameAsNative(db);
    expect(await preparedOnOurs()).toBe(0);
  });

  it('skip passes a prepare group that failed, and its commit group then changes nothing', async () => {
    // Drift on our replica: the row the XA transaction updates is gone there.
    const ours = await mysql.createConnection({ uri: diff.ours.info.adminUrl });
    await ours.query(`DELETE FROM ${db}.acct WHERE id = 2`);
    await prepare("'t6'", `UPDATE ${db}.acct SET balance = balance + 5 WHERE id = 2`);
    const stopped = await diff.replication.exited();
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/the row to update in diff_xa\.acct is not on the replica/);
    expect(await preparedOnOurs()).toBe(0); // rolled back, never left prepared
    const skipped = await runCli(['skip', ...diff.replication.connectionArgs]);
    expect(skipped.code).toBe(0);
    diff.replication.start();
    await diff.run(`XA COMMIT 't6'`, `INSERT INTO ${db}.audit VALUES (7, 'after the skip')`);
    await diff.synced();
    // Repair the drift by hand (the skipped transaction's change included) and compare.
    const [row] = (await diff.sourceConnection.query(`SELECT balance FROM ${db}.acct WHERE id = 2`)) as unknown as [Array<{ balance: string }>];
    await ours.query(`INSERT INTO ${db}.acct VALUES (2, ?)`, [row[0]!.balance]);
    await ours.end();
    await diff.expectSameAsNative(db);
    expect(await preparedOnOurs()).toBe(0);
  });
});
