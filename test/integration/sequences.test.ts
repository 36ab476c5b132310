// MariaDB sequences through the server's own replica and binlog-sync from
// one source: the DDL (CREATE, ALTER, DROP SEQUENCE) and the row events
// that NEXTVAL and SETVAL write on the sequence table, also as a column
// default; the copies must be equal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { Differential } from '../support/differential.js';

const db = 'diff_seq';
let diff: Differential;

beforeAll(async () => {
  diff = await Differential.start({ databases: [db], ids: [121, 122, 123], source: { timeZone: 'Asia/Kolkata' } });
  await diff.run(`CREATE DATABASE ${db}`);
});

afterAll(async () => {
  await diff?.close();
});

/** NEXTVAL on a replica: its sequence goes on from the state the binlog carried there. */
async function nextOn(url: string, sequence: string): Promise<string> {
  const conn = await mysql.createConnection({ uri: url, supportBigNumbers: true, bigNumberStrings: true });
  try {
    const [rows] = await conn.query(`SELECT NEXTVAL(${sequence}) AS n`);
    return String((rows as Array<{ n: string }>)[0]!.n);
  } finally {
    await conn.end();
  }
}

describe('sequences, the same as the server own replica', () => {
  it('created, used, set, altered, used as a default and dropped', async () => {
    await diff.run(
      `CREATE SEQUENCE ${db}.ticket START WITH 10 INCREMENT BY 5 CACHE 3`,
      `USE ${db}`,
      `CREATE SEQUENCE IF NOT EXISTS visit NOCACHE`,
      `CREATE TABLE ${db}.orders (id BIGINT NOT NULL DEFAULT NEXTVAL(${db}.visit) PRIMARY KEY, what VARCHAR(20))`,
    );
    for (let i = 0; i < 7; i++) await diff.run(`SELECT NEXTVAL(${db}.ticket)`);
    await diff.run(`INSERT INTO ${db}.orders (what) VALUES ('a'), ('b'), ('c')`, `SELECT SETVAL(${db}.ticket, 1000)`);
    await diff.run(`ALTER SEQUENCE ${db}.visit RESTART WITH 500`, `INSERT INTO ${db}.orders (what) VALUES ('after restart')`);
    await diff.run(`CREATE SEQUENCE ${db}.gone`, `SELECT NEXTVAL(${db}.gone)`, `DROP SEQUENCE ${db}.gone`);
    await diff.expectSameAsNative(db);
    // Not only the rows: the sequence goes on from the same state as the native replica's.
    expect(await nextOn(diff.ours.info.adminUrl, `${db}.ticket`)).toBe(await nextOn(diff.native.info.adminUrl, `${db}.ticket`));
    expect(await nextOn(diff.ours.info.adminUrl, `${db}.visit`)).toBe(await nextOn(diff.native.info.adminUrl, `${db}.visit`));
  });
});
