// Cases MariaDB's own regression suite showed (issue 23): each runs through
// the server's own replica and binlog-sync from one source, and the copies
// must be equal. Faults that show only now and then (a race, a retry) are
// repeated until they would show.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXACT_VALUES, runCli } from '../support/context.js';
import { Differential } from '../support/differential.js';

let diff: Differential;

/** A database per case, so that each case's copies are compared on their own. */
const CASES = ['wait_german2', 'wait_retry'];
const dbOf = (name: string): string => `traps_${name}`;

beforeAll(async () => {
  diff = await Differential.start({ databases: CASES.map(dbOf), ids: [231, 232, 233], source: { timeZone: 'Asia/Kolkata' } });
  for (const name of CASES) await diff.run(`CREATE DATABASE ${dbOf(name)}`);
});

afterAll(async () => {
  await diff?.close();
});

/** Runs a query on binlog-sync's replica. */
async function onOurs<T>(sql: string): Promise<T[]> {
  const conn = await mysql.createConnection({ uri: diff.ours.info.adminUrl, ...EXACT_VALUES });
  try {
    return (await conn.query(sql))[0] as T[];
  } finally {
    await conn.end();
  }
}

/** `binlog-sync wait`, as a test suite runs it right after its writes. */
function waitCli(timeoutSeconds: number): ReturnType<typeof runCli> {
  return runCli(['wait', '--timeout', String(timeoutSeconds), '--source', diff.source.info.userUrl, '--state', diff.replication.statePath]);
}

describe('wait right after a write', () => {
  it('says caught up only once the last transaction is on the replica, and deletes a keyless latin1_german2_ci row (20 tries)', async () => {
    const db = dbOf('wait_german2');
    for (let i = 0; i < 20; i++) {
      const t = `${db}.t${i}`;
      await diff.run(`CREATE TABLE ${t} (a VARCHAR(10) CHARACTER SET latin1 COLLATE latin1_german2_ci)`, `INSERT INTO ${t} VALUES ('a')`, `DELETE FROM ${t}`);
      const waited = await waitCli(20);
      expect(waited.code, `wait #${i}: ${waited.stderr}\n${diff.replication.output?.stderr.slice(-3000) ?? ''}`).toBe(0);
      // "Caught up": the delete is on the replica, whatever happened meanwhile.
      expect(await onOurs(`SELECT a FROM ${t}`), `rows of ${t} right after wait #${i}`).toEqual([]);
    }
    await diff.expectSameAsNative(db);
  });

  it('locates latin1_german2_ci rows, where ä = ae, by key and by their bytes', async () => {
    const db = dbOf('wait_german2');
    const keyed = `${db}.keyed`;
    const keyless = `${db}.keyless`;
    const type = 'VARCHAR(10) CHARACTER SET latin1 COLLATE latin1_german2_ci';
    const exactly = (value: string): string => `CAST(a AS BINARY) = CAST(CONVERT('${value}' USING latin1) AS BINARY)`;
    await diff.run(
      `CREATE TABLE ${keyed} (a ${type} PRIMARY KEY, n INT)`,
      `CREATE TABLE ${keyless} (a ${type}, n INT)`,
      `INSERT INTO ${keyed} VALUES ('ä', 1), ('b', 2), ('Straße', 3)`,
      `INSERT INTO ${keyless} VALUES ('ae', 1), ('AE', 2), ('ä', 3), ('ae ', 4)`,
      `UPDATE ${keyed} SET n = n + 10`,
      `UPDATE ${keyed} SET a = 'ae' WHERE a = 'ä'`,
      `DELETE FROM ${keyed} WHERE n = 12`,
      `UPDATE ${keyless} SET n = 30 WHERE ${exactly('ä')}`,
      `DELETE FROM ${keyless} WHERE ${exactly('AE')}`,
      `UPDATE ${keyless} SET a = 'Ä' WHERE ${exactly('ae ')}`,
    );
    expect((await waitCli(30)).code).toBe(0);
    await diff.expectSameAsNative(db);
  });
});

describe('wait while a transaction is applied again', () => {
  /**
   * binlog-sync's applier session on the replica, waiting (for the test's row
   * lock) for a while; not `other`. (A killed session may leave its lock wait
   * behind in INNODB_TRX for a while: the process list says who runs.)
   */
  async function blockedApplier(conn: mysql.Connection, other?: number): Promise<number> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [rows] = await conn.query(
        "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = 'binlog_sync' AND COMMAND = 'Query' AND TIME_MS >= 300 AND ID <> ?",
        [other ?? 0],
      );
      const id = (rows as Array<{ id: number }>)[0]?.id;
      if (id !== undefined) return Number(id);
      if (Date.now() > deadline) throw new Error(`binlog-sync's applier never waited for the test's row lock:\n${diff.replication.output?.stderr.slice(-3000) ?? ''}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('is not caught up while a transaction rolled back by a lost connection is applied again (3 tries)', async () => {
    const db = dbOf('wait_retry');
    const t = `${db}.rides`;
    await diff.run(`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT NOT NULL)`, `INSERT INTO ${t} VALUES (1, 0)`);
    await diff.synced();
    const lock = await mysql.createConnection({ uri: diff.ours.info.adminUrl, ...EXACT_VALUES });
    try {
      for (let i = 1; i <= 3; i++) {
        // The replica's row is locked: the applier waits for it, the transaction open.
        await lock.query('BEGIN');
        await lock.query(`SELECT * FROM ${t} WHERE id = 1 FOR UPDATE`);
        await diff.run(`UPDATE ${t} SET v = ${i} WHERE id = 1`);
        let done: Awaited<ReturnType<typeof runCli>> | undefined;
        const waiting = waitCli(60).then((result) => (done = result));
        // The applier's connection is lost: its transaction is rolled back, and a
        // new session streams it again and waits for the same lock.
        const first = await blockedApplier(lock);
        await lock.query(`KILL CONNECTION ${first}`);
        await blockedApplier(lock, first);
        // A runner's published health lags by up to a second: a wait misled by it would have returned by now.
        await new Promise((r) => setTimeout(r, 2000));
        expect(done, `wait #${i} returned while the update was not applied: ${done?.stdout ?? ''}${done?.stderr ?? ''}`).toBeUndefined();
        await lock.query('ROLLBACK');
        const result = await waiting;
        expect(result.code, result.stderr).toBe(0);
        expect(await onOurs(`SELECT v FROM ${t}`)).toEqual([{ v: i }]);
      }
    } finally {
      await lock.end();
    }
    await diff.expectSameAsNative(db);
  });
});
