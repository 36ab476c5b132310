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
const CASES = ['wait_german2'];
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

