// Statements that wrap, move or borrow tables, run through the server's own
// replica and through binlog-sync from one source: SET STATEMENT ... FOR,
// renames across the boundary of the replicated database, CREATE TABLE ...
// LIKE a table of another database. Where binlog-sync cannot follow (a table
// renamed in, a statement it does not apply), it stops in one line with the
// way out, and the way out leads to the native replica's result.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXACT_VALUES } from '../support/context.js';
import { Differential } from '../support/differential.js';

const db = 'stmts_park';
const other = 'stmts_other';
let diff: Differential;

beforeAll(async () => {
  diff = await Differential.start({ databases: [db], ids: [81, 82, 83], source: { timeZone: 'Asia/Kolkata' } });
  await diff.run(`CREATE DATABASE ${db}`, `CREATE DATABASE ${other}`);
});

afterAll(async () => {
  await diff?.close();
});

/** Runs SQL on binlog-sync's replica (a repair by hand). */
async function onOurReplica(sql: string): Promise<void> {
  const conn = await mysql.createConnection({ uri: diff.ours.info.adminUrl, ...EXACT_VALUES });
  try {
    await conn.query(sql);
  } finally {
    await conn.end();
  }
}

/** The lines binlog-sync printed for the user (not its JSON logs). */
function userLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('binlog-sync:'));
}

describe('the same as the server own replica', () => {
  it('SET STATEMENT ... FOR <DDL> is applied as the statement it wraps', async () => {
    await diff.run(
      `CREATE TABLE ${db}.ss (id INT PRIMARY KEY, v VARCHAR(10))`,
      `INSERT INTO ${db}.ss VALUES (1, 'a'), (2, 'b')`,
      `SET STATEMENT max_statement_time=60 FOR TRUNCATE TABLE ${db}.ss`,
      `INSERT INTO ${db}.ss VALUES (3, 'c')`,
      `SET STATEMENT lock_wait_timeout=30, max_statement_time=0 FOR ALTER TABLE ${db}.ss ADD COLUMN q INT NOT NULL DEFAULT 7`,
      `INSERT INTO ${db}.ss VALUES (4, 'd', 8)`,
      `USE ${db}; SET STATEMENT foreign_key_checks=0 FOR CREATE TABLE ss2 (id INT PRIMARY KEY); INSERT INTO ss2 VALUES (1)`,
    );
    await diff.expectSameAsNative(db);
  });

  it('a table renamed out of the replicated database leaves the replica (and its name can be used again)', async () => {
    for (const t of ['r1', 'r2', 'r3', 'r4', 'r5', 'r6']) {
      await diff.run(`CREATE TABLE ${db}.${t} (id INT PRIMARY KEY, v VARCHAR(10))`, `INSERT INTO ${db}.${t} VALUES (1, '${t}')`);
    }
    await diff.run(
      `RENAME TABLE ${db}.r1 TO ${other}.r1`,
      `ALTER TABLE ${db}.r2 ADD COLUMN w INT, RENAME TO ${other}.r2b`,
      // Out, then a name taken by the next pair, then one that stays in.
      `RENAME TABLE ${db}.r3 TO ${other}.r3, ${db}.r4 TO ${db}.r3, ${db}.r5 TO ${db}.r5b`,
      `USE ${db}; ALTER TABLE r6 RENAME ${other}.r6`,
      `CREATE TABLE ${db}.r1 (id INT PRIMARY KEY, note TEXT)`,
      `CREATE TABLE ${db}.r6 (id INT PRIMARY KEY)`,
      `INSERT INTO ${db}.r1 VALUES (2, 'new r1')`,
      `INSERT INTO ${db}.r3 VALUES (2, 'was r4')`,
      `INSERT INTO ${db}.r5b VALUES (2, 'moved')`,
    );
    await diff.expectSameAsNative(db);
  });

  it('CREATE TABLE ... LIKE a table of another database gets that table definition', async () => {
    await diff.run(
      `CREATE TABLE ${other}.parent (id INT PRIMARY KEY)`,
      `CREATE TABLE ${other}.y (
         id INT AUTO_INCREMENT PRIMARY KEY,
         p INT,
         name VARCHAR(20) NOT NULL DEFAULT 'it''s',
         at TIMESTAMP(3) NULL DEFAULT NULL,
         KEY by_name (name),
         CONSTRAINT fk_parent FOREIGN KEY (p) REFERENCES ${other}.parent (id),
         CONSTRAINT positive CHECK (p > 0)
       ) ENGINE=InnoDB DEFAULT CHARSET=latin1 COMMENT 'like source'`,
      `INSERT INTO ${other}.parent VALUES (1)`,
      `INSERT INTO ${other}.y (p, name) VALUES (1, 'one'), (1, 'two')`,
      `CREATE TABLE ${other}.yp (id INT NOT NULL, d DATE NOT NULL, PRIMARY KEY (id, d)) PARTITION BY RANGE (YEAR(d)) (
         PARTITION p0 VALUES LESS THAN (2000), PARTITION p1 VALUES LESS THAN MAXVALUE)`,
      `CREATE TABLE ${db}.z LIKE ${other}.y`,
      `USE ${db}; CREATE TABLE zp (LIKE ${other}.yp)`,
      `SET STATEMENT max_statement_time=0 FOR CREATE TABLE IF NOT EXISTS ${db}.z2 LIKE ${other}.y`,
      `INSERT INTO ${db}.z (p, name) VALUES (5, 'in z')`,
      `INSERT INTO ${db}.zp VALUES (1, '1999-01-01'), (2, '2024-02-29')`,
      `INSERT INTO ${db}.z2 (p) VALUES (3)`,
    );
    await diff.expectSameAsNative(db);
  });

  it('logs each statement it leaves out at info', async () => {
    await diff.run(
      `CREATE TABLE ${db}.logged (id INT PRIMARY KEY)`,
      `ANALYZE TABLE ${db}.logged`,
      `CREATE TRIGGER ${db}.logged_bi BEFORE INSERT ON ${db}.logged FOR EACH ROW SET NEW.id = NEW.id`,
      `INSERT INTO ${db}.logged VALUES (1)`,
    );
    await diff.expectSameAsNative(db);
    const logs = diff.replication.output!.stderr.split('\n').filter((line) => line.startsWith('{'));
    const skips = logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.msg === 'statement not replicated');
    expect(skips).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'info', reason: expect.stringMatching(/^ANALYZE TABLE: /), sql: `ANALYZE TABLE ${db}.logged` }),
        expect.objectContaining({ level: 'info', reason: expect.stringMatching(/^CREATE TRIGGER: triggers are not replicated/) }),
      ]),
    );
  });
});

describe('where binlog-sync cannot follow, it stops in one line with the way out', () => {
  it('a table renamed into the replicated database: stops at the rename; a new snapshot brings it', async () => {
    await diff.run(
      `CREATE TABLE ${other}.incoming (id INT PRIMARY KEY, v VARCHAR(10))`,
      `INSERT INTO ${other}.incoming VALUES (1, 'old'), (2, 'rows')`,
      `RENAME TABLE ${other}.incoming TO ${db}.incoming`,
      `INSERT INTO ${db}.incoming VALUES (3, 'new')`,
    );
    const stopped = await diff.replication.exited();
    expect(stopped.code).toBe(1);
    const lines = userLines(stopped.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^binlog-sync: stopped at the statement at GTID \\d+-\\d+-\\d+, after mysql-bin\\.\\d+:\\d+ ` +
          `\\(table ${db}\\.incoming is renamed into the replicated tables from ${other}\\.incoming, whose rows the replica does not have\\): ` +
          `RENAME TABLE ${other}\\.incoming TO ${db}\\.incoming; seed the replica again with \`binlog-sync snapshot --drop-existing\``,
      ),
    );
    const status = await diff.replication.status();
    expect(status).toMatchObject({ state: 'STOPPED', running: false, lastError: { code: 'UNSUPPORTED_EVENT', message: lines[0]!.slice('binlog-sync: '.length) } });

    const snapshot = await diff.replication.cli(['snapshot', '--drop-existing', ...diff.replication.commonArgs]);
    expect(snapshot.stderr.split('\n').filter((l) => l.startsWith('binlog-sync:'))).toEqual([]);
    expect(snapshot.code).toBe(0);
    diff.replication.start();
    await diff.run(`INSERT INTO ${db}.incoming VALUES (4, 'after')`);
    await diff.expectSameAsNative(db);
  });

  it('a statement it does not apply (an INSERT logged as a statement): stops; applied by hand, `skip` passes it', async () => {
    await diff.run(`CREATE TABLE ${db}.stmt (id INT PRIMARY KEY, v VARCHAR(20))`, `INSERT INTO ${db}.stmt VALUES (1, 'row event')`);
    await diff.synced();
    await diff.run(
      `SET SESSION binlog_format = 'STATEMENT'; INSERT INTO ${db}.stmt VALUES (2, 'by statement'); SET SESSION binlog_format = 'ROW'`,
      `INSERT INTO ${db}.stmt VALUES (3, 'row event again')`,
    );
    const stopped = await diff.replication.exited();
    expect(stopped.code).toBe(1);
    const lines = userLines(stopped.stderr);
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^binlog-sync: stopped at the statement at GTID (\\d+-\\d+-\\d+), after mysql-bin\\.\\d+:\\d+ \\(binlog-sync does not apply INSERT statements\\): ` +
            `INSERT INTO ${db}\\.stmt VALUES \\(2, 'by statement'\\); apply it on the replica by hand, then \`binlog-sync skip\`$`,
        ),
      ),
    ]);
    const gtid = /GTID (\S+),/.exec(lines[0]!)![1]!;
    expect(await diff.replication.status()).toMatchObject({ state: 'STOPPED', lastError: { code: 'UNSUPPORTED_EVENT' } });

    await onOurReplica(`INSERT INTO ${db}.stmt VALUES (2, 'by statement')`);
    const skip = await diff.replication.cli(['skip', ...diff.replication.connectionArgs]);
    expect(skip.stderr).toBe('');
    expect(skip.code).toBe(0);
    expect(skip.stdout).toMatch(new RegExp(`^skipped transaction GTID ${gtid}; `));
    diff.replication.start();
    await diff.expectSameAsNative(db);
  });
});
