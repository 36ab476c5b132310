// Masking on the paths beside the main one: the binlog decoded on the main
// thread (BINLOG_SYNC_DECODE_THREAD=0, as after the decoding thread ran out
// of memory), a database renamed by --rewrite-db (rules name the source's),
// a table created after `start` that a wildcard rule covers, and two
// distinct values of a unique column masked into one (a clear error that
// names the table and column, and no row dropped).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, dropDatabases, eventually, tempDir, uniqueName } from '../support/context.js';
import { Replication } from '../support/replication.js';

const db = uniqueName('maskp');
const renamed = uniqueName('maskp_dev');
const dir = tempDir('binlog-sync-maskp-');
const keyFile = join(dir.path, 'mask.key');

let source: Connection;
let replica: Connection;

async function rows<T>(conn: Connection, sql: string): Promise<T[]> {
  const [r] = await conn.query(sql);
  return r as T[];
}

beforeAll(async () => {
  writeFileSync(keyFile, 'paths-test-key-0123456789abcdef');
  source = await adminConnection('source');
  replica = await adminConnection('replica');
  await source.query(`CREATE DATABASE \`${db}\``);
  await source.query(`CREATE TABLE \`${db}\`.people (id INT PRIMARY KEY, email VARCHAR(80), code CHAR(2) UNIQUE)`);
  await source.query(`INSERT INTO \`${db}\`.people SELECT seq, CONCAT('p', seq, '@example.org'), NULL FROM mysql.seq_1_to_50`);
});

afterAll(async () => {
  await source?.end();
  await replica?.end();
  await dropDatabases([db, renamed]);
  dir.cleanup();
});

describe('masking beside the main path', () => {
  it('masks on the main thread too, under --rewrite-db, and in a table created after start', async () => {
    const replication = new Replication({
      databases: [db],
      args: ['--rewrite-db', `${db}=${renamed}`, '--mask', `${db}.*.email=email`, '--mask', `${db}.people.code=hash`, '--mask-key-file', keyFile],
      env: { BINLOG_SYNC_DECODE_THREAD: '0' },
    });
    try {
      const snapshot = await replication.cli(['snapshot', ...replication.commonArgs]);
      expect(snapshot.code, snapshot.stderr).toBe(0);
      replication.start();
      await replication.streaming();
      await source.query(`INSERT INTO \`${db}\`.people VALUES (51, 'late@example.org', NULL)`);
      await source.query(`CREATE TABLE \`${db}\`.staff (id INT PRIMARY KEY, email VARCHAR(64))`);
      await source.query(`INSERT INTO \`${db}\`.staff VALUES (1, 'p1@example.org'), (2, 'boss@example.org')`);
      await replication.caughtUp();
      const emails = await rows<{ email: string }>(replica, `SELECT email FROM \`${renamed}\`.people UNION ALL SELECT email FROM \`${renamed}\`.staff`);
      expect(emails).toHaveLength(53);
      for (const { email } of emails) expect(email).toMatch(/^[0-9a-f]{16}@example\.invalid$/);
      // The same address in two tables, one copied by snapshot and one streamed: one masked address.
      const joined = await rows<{ n: number }>(replica, `SELECT COUNT(*) AS n FROM \`${renamed}\`.people p JOIN \`${renamed}\`.staff s ON s.email = p.email`);
      expect(Number(joined[0]!.n)).toBe(1);
      const verify = await replication.cli(['verify', '--json', ...replication.commonArgs]);
      expect(verify.code, verify.stdout).toBe(0);
      expect((JSON.parse(verify.stdout) as { masked: string[] }).masked).toContain(`${db}.staff.email`);
      // The masked tables took the SQL path, and status says which (on the BINLOG path; on the SQL path every table does).
      // (Published with the runner's health once a second: polled.)
      if (process.env.BINLOG_SYNC_TEST_ROW_APPLIER !== 'sql') {
        const tables = [`${renamed}.people`, `${renamed}.staff`];
        const published = await eventually(
          async () => (await replication.status()).runner?.sqlPathTables ?? [],
          (sqlPath) => sqlPath.length === tables.length,
          { timeoutMs: 10_000, intervalMs: 200 },
        );
        expect(published).toEqual(tables);
      }
      const stopped = await replication.stop();
      expect(stopped.code).toBe(0);

      // Distinct codes that a 2-character hash cannot keep apart: the replica refuses the duplicate, and the error says why.
      replication.start();
      await replication.streaming();
      const before = Number((await rows<{ n: number }>(replica, `SELECT COUNT(*) AS n FROM \`${renamed}\`.people WHERE code IS NOT NULL`))[0]!.n);
      await source.query(`UPDATE \`${db}\`.people SET code = LPAD(CONV(id, 10, 36), 2, '0') WHERE id <= 50`);
      const failed = await replication.exited(60_000);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(new RegExp(`binlog-sync: masking made two distinct rows of ${renamed}\\.people collide on a unique key \\(masked columns: email, code\\)`));
      // Nothing of that transaction was applied, and the error is recorded for `status`.
      const after = Number((await rows<{ n: number }>(replica, `SELECT COUNT(*) AS n FROM \`${renamed}\`.people WHERE code IS NOT NULL`))[0]!.n);
      expect(after).toBe(before);
      const status = await replication.status();
      expect(status.lastError?.code).toBe('MASK');
    } finally {
      await replication.close();
    }
  });

  it('stops, before the row is applied, at a table created later whose matched column the rule cannot fit', async () => {
    const late = uniqueName('maskl');
    await source.query(`CREATE DATABASE \`${late}\``);
    await source.query(`CREATE TABLE \`${late}\`.visitors (id INT PRIMARY KEY, email VARCHAR(64))`);
    await source.query(`INSERT INTO \`${late}\`.visitors VALUES (1, 'first@example.org')`);
    const replication = new Replication({ databases: [late], args: ['--mask', `${late}.*.email=email`, '--mask-key-file', keyFile] });
    try {
      const snapshot = await replication.cli(['snapshot', ...replication.commonArgs]);
      expect(snapshot.code, snapshot.stderr).toBe(0);
      replication.start();
      await replication.streaming();
      await source.query(`CREATE TABLE \`${late}\`.counters (id INT PRIMARY KEY, email INT)`);
      await source.query(`INSERT INTO \`${late}\`.counters VALUES (1, 12345)`);
      const stopped = await replication.exited(60_000);
      expect(stopped.code).toBe(1);
      expect(stopped.stderr).toMatch(new RegExp(`binlog-sync: mask rule ${late}\\.\\*\\.email=email cannot be applied to ${late}\\.counters\\.email \\(an integer column \\(32 bits\\)\\): email needs a text column`));
      const [rows] = await replica.query(`SELECT COUNT(*) AS n FROM \`${late}\`.counters`);
      expect(Number((rows as Array<{ n: number }>)[0]!.n)).toBe(0);
      expect((await replication.status()).lastError?.code).toBe('MASK');
    } finally {
      await replication.close();
      await dropDatabases([late]);
    }
  });

  it('masks both ends of a foreign key alike, and refuses rules that would not', async () => {
    const fk = uniqueName('maskfk');
    await source.query(`CREATE DATABASE \`${fk}\``);
    await source.query(`CREATE TABLE \`${fk}\`.members (id INT PRIMARY KEY, name VARCHAR(40))`);
    await source.query(`CREATE TABLE \`${fk}\`.visits (id INT PRIMARY KEY, member_id INT, FOREIGN KEY (member_id) REFERENCES members (id))`);
    await source.query(`INSERT INTO \`${fk}\`.members SELECT seq, CONCAT('member ', seq) FROM mysql.seq_1_to_30`);
    await source.query(`INSERT INTO \`${fk}\`.visits SELECT seq, 1 + seq % 30 FROM mysql.seq_1_to_90`);
    const replication = new Replication({
      databases: [fk],
      args: ['--mask', `${fk}.members.id=hash`, '--mask', `${fk}.visits.member_id=hash`, '--mask-key-file', keyFile],
    });
    try {
      const oneSided = ['--mask', `${fk}.members.id=hash`, '--mask-key-file', keyFile];
      const refused = await replication.cli(['snapshot', ...replication.connectionArgs, '--databases', fk, ...oneSided]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`${fk}\\.visits\\.member_id references ${fk}\\.members\\.id by a foreign key, but they are masked differently \\(none and hash\\)`));
      const check = await replication.cli(['check', '--json', ...replication.connectionArgs, '--databases', fk, ...oneSided]);
      expect(check.code).toBe(1);
      expect(check.stdout).toContain('masked differently');

      const snapshot = await replication.cli(['snapshot', ...replication.commonArgs]);
      expect(snapshot.code, snapshot.stderr).toBe(0);
      replication.start();
      await replication.streaming();
      await source.query(`INSERT INTO \`${fk}\`.members VALUES (31, 'late member')`);
      await source.query(`INSERT INTO \`${fk}\`.visits VALUES (91, 31), (92, 5)`);
      await source.query(`DELETE FROM \`${fk}\`.visits WHERE member_id = 7`);
      await replication.caughtUp();
      const joined = `SELECT COUNT(*) AS n FROM \`${fk}\`.visits v JOIN \`${fk}\`.members m ON m.id = v.member_id`;
      const [a] = await source.query(joined);
      const [b] = await replica.query(joined);
      expect(Number((b as Array<{ n: number }>)[0]!.n)).toBe(Number((a as Array<{ n: number }>)[0]!.n));
      const verify = await replication.cli(['verify', ...replication.commonArgs]);
      expect(verify.code, verify.stdout).toBe(0);
    } finally {
      await replication.close();
      await dropDatabases([fk]);
    }
  });
});
