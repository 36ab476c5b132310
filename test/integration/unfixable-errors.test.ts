// Errors retrying cannot fix stop `start` with exit 1 and the failing
// transaction recorded; `skip` passes exactly that one. Bad state files and
// unreachable servers get one clear line and exit 1, touching nothing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, dropDatabases, runCli, tempDir, testServers, uniqueName } from '../support/context.js';
import { Replication, startReplication } from '../support/replication.js';
import { StateStore } from '../../src/state/state-store.js';

const db = uniqueName('unfixable');
let source: Connection;
let replication: Replication;
const scratch = tempDir();

beforeAll(async () => {
  source = await adminConnection('source');
  replication = await startReplication({ databases: [db] });
  await source.query(`CREATE DATABASE \`${db}\``);
  await source.query(`CREATE TABLE \`${db}\`.rides (id INT PRIMARY KEY, name VARCHAR(40))`);
  await source.query(`CREATE TABLE \`${db}\`.shows (id INT PRIMARY KEY)`);
  await replication.caughtUp();
});

afterAll(async () => {
  await replication?.close();
  scratch.cleanup();
  await source?.end();
  await dropDatabases([db]);
});

async function onReplica(sql: string): Promise<unknown[]> {
  const replica = await adminConnection('replica');
  try {
    return (await replica.query(sql))[0] as unknown[];
  } finally {
    await replica.end();
  }
}

function stateOf(r: Replication) {
  const state = StateStore.open(r.statePath, { readonly: true });
  try {
    return { lastError: state.getLastError(), history: state.history(10), position: state.getPosition() };
  } finally {
    state.close();
  }
}

describe('a duplicate key from drift', () => {
  it('stops with exit 1 and the transaction recorded; skip passes exactly it and the next one applies', async () => {
    await onReplica(`INSERT INTO \`${db}\`.rides VALUES (1, 'only on the replica')`);
    await source.query(`INSERT INTO \`${db}\`.rides VALUES (1, 'from the source')`);
    const stopped = await replication.exited();
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/binlog-sync: applying insert on .*\.rides at GTID (\d+-\d+-\d+), .* Duplicate entry '1' for key 'PRIMARY' \(error 1062\)\n$/);
    const { lastError } = stateOf(replication);
    expect(lastError).toMatchObject({ code: 'APPLY', table: `${db}.rides`, statement: 'insert' });
    const failedGtid = lastError!.gtid!;
    const status = await runCli(['status', '--json', '--state', replication.statePath]);
    expect(status.code).toBe(2);
    expect(JSON.parse(status.stdout)).toMatchObject({
      state: 'STOPPED',
      running: false,
      lastError: { code: 'APPLY', gtid: failedGtid, table: `${db}.rides`, message: expect.stringContaining('Duplicate entry') },
    });

    await source.query(`INSERT INTO \`${db}\`.rides VALUES (2, 'next one')`);
    const skip = await replication.cli(['skip', ...replication.connectionArgs]);
    expect(skip.stderr).toBe('');
    expect(skip.code).toBe(0);
    expect(skip.stdout).toMatch(new RegExp(`^skipped transaction GTID ${failedGtid}; \`start\` continues at mysql-bin\\.\\d+:\\d+ gtid \\S+\\n$`));
    const after = stateOf(replication);
    expect(after.lastError).toBeNull();
    expect(after.history[0]).toMatchObject({ event: 'skip', gtid: failedGtid });

    replication.start();
    await replication.caughtUp();
    expect(await onReplica(`SELECT id, name FROM \`${db}\`.rides ORDER BY id`)).toEqual([
      { id: 1, name: 'only on the replica' },
      { id: 2, name: 'next one' },
    ]);
  });

  it('stops the same way when a large insert came as a file (LOAD DATA skips a duplicate instead of failing)', async () => {
    await source.query(`CREATE TABLE \`${db}\`.coasters (id INT PRIMARY KEY, name VARCHAR(40))`);
    await replication.caughtUp();
    await onReplica(`INSERT INTO \`${db}\`.coasters VALUES (50, 'only on the replica')`);
    await source.query(`INSERT INTO \`${db}\`.coasters SELECT seq, CONCAT('coaster ', seq) FROM mysql.seq_1_to_100`);
    const stopped = await replication.exited();
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/binlog-sync: applying insert on .*\.coasters at GTID \d+-\d+-\d+, .* Duplicate entry '50' for key 'PRIMARY' \(error 1062\)\n$/);
    // Nothing of the transaction stayed on the replica.
    expect(await onReplica(`SELECT COUNT(*) AS n FROM \`${db}\`.coasters`)).toEqual([{ n: '1' }]);

    await onReplica(`DELETE FROM \`${db}\`.coasters WHERE id = 50`);
    replication.start();
    await replication.caughtUp();
    expect(await onReplica(`SELECT COUNT(*) AS n, SUM(name = CONCAT('coaster ', id)) AS same FROM \`${db}\`.coasters`)).toEqual([{ n: '100', same: '100' }]);
  });

  it('stops on a row missing from an update that spans several rows events (applied as one statement)', async () => {
    // About 18 KiB of before and after images: three rows events of one statement.
    await source.query(`INSERT INTO \`${db}\`.coasters SELECT seq, CONCAT('coaster ', seq) FROM mysql.seq_101_to_300`);
    await replication.caughtUp();
    await onReplica(`DELETE FROM \`${db}\`.coasters WHERE id = 280`);
    await source.query(`UPDATE \`${db}\`.coasters SET name = CONCAT(REPEAT('x', 30), id)`);
    const stopped = await replication.exited();
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/binlog-sync: the row to update in .*\.coasters is not on the replica \(the replica has drifted from the source\)/);
    // Nothing of the update stayed on the replica.
    expect(await onReplica(`SELECT COUNT(*) AS n FROM \`${db}\`.coasters WHERE name LIKE 'x%'`)).toEqual([{ n: '0' }]);

    await onReplica(`INSERT INTO \`${db}\`.coasters VALUES (280, 'coaster 280')`);
    replication.start();
    await replication.caughtUp();
    expect(await onReplica(`SELECT COUNT(*) AS n, SUM(name = CONCAT(REPEAT('x', 30), id)) AS same FROM \`${db}\`.coasters`)).toEqual([{ n: '300', same: '300' }]);
  });

  it('refuses to skip when no error is recorded', async () => {
    await replication.stop();
    const skip = await replication.cli(['skip', ...replication.connectionArgs]);
    expect(skip.code).toBe(1);
    expect(skip.stderr).toBe('binlog-sync: no error is recorded on this state file; there is nothing to skip\n');
    replication.start();
  });
});

describe('a table missing on the replica', () => {
  it('stops with exit 1 naming the table, the position at the last good transaction', async () => {
    await replication.caughtUp();
    const good = replication.storedPosition();
    await onReplica(`DROP TABLE \`${db}\`.shows`);
    await source.query(`INSERT INTO \`${db}\`.shows VALUES (1)`);
    const stopped = await replication.exited();
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/binlog-sync: applying insert on .*\.shows at .* Table '.*\.shows' doesn't exist \(error 1146\)\n$/);
    const { lastError, position } = stateOf(replication);
    expect(lastError).toMatchObject({ table: `${db}.shows`, statement: 'insert', code: 'APPLY' });
    expect(position!.file).toBe(good!.file);
    // Repair by hand and carry on: the failed transaction is applied now.
    await onReplica(`CREATE TABLE \`${db}\`.shows (id INT PRIMARY KEY)`);
    replication.start();
    await replication.caughtUp();
    expect(await onReplica(`SELECT id FROM \`${db}\`.shows`)).toEqual([{ id: 1 }]);
  });
});

describe('a drift inside a backlog', () => {
  it('stops at exactly the failing transaction, though transactions around it share commits', async () => {
    await source.query(`INSERT INTO \`${db}\`.rides VALUES (10, 'ten'), (11, 'eleven')`);
    await replication.caughtUp();
    await replication.stop();
    for (let i = 100; i < 150; i++) await source.query(`INSERT INTO \`${db}\`.rides VALUES (?, 'before')`, [i]);
    await onReplica(`DELETE FROM \`${db}\`.rides WHERE id = 11`); // will be missing...
    await source.query(`UPDATE \`${db}\`.rides SET name = 'changed' WHERE id = 11`); // ...for this one
    for (let i = 150; i < 200; i++) await source.query(`INSERT INTO \`${db}\`.rides VALUES (?, 'after')`, [i]);
    replication.start(); // a backlog: its transactions are applied in groups
    const stopped = await replication.exited();
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/the row to update in .*\.rides is not on the replica/);
    // The regrouping said why, before the transactions were applied one at a time.
    const regrouped = stopped.stderr.split('\n').find((line) => line.includes('applying them one at a time; retrying'));
    // (On the SQL path the failing statement names its row; a BINLOG statement of several rows events, the server's error.)
    expect(JSON.parse(regrouped!)).toMatchObject({
      level: 'warn',
      cause: expect.stringMatching(/the row to update in .*\.rides is not on the replica|rows events applied together .* Can't find record in 'rides'/),
    });
    // Everything before the failing transaction is there, nothing after it.
    expect(await onReplica(`SELECT COUNT(*) AS n FROM \`${db}\`.rides WHERE name = 'before'`)).toEqual([{ n: '50' }]);
    expect(await onReplica(`SELECT COUNT(*) AS n FROM \`${db}\`.rides WHERE name = 'after'`)).toEqual([{ n: '0' }]);
    await onReplica(`INSERT INTO \`${db}\`.rides VALUES (11, 'repaired')`);
    replication.start();
    await replication.caughtUp();
    expect(await onReplica(`SELECT name FROM \`${db}\`.rides WHERE id = 11`)).toEqual([{ name: 'changed' }]);
    expect(await onReplica(`SELECT COUNT(*) AS n FROM \`${db}\`.rides WHERE name = 'after'`)).toEqual([{ n: '50' }]);
  });

  it('stops at exactly the failing transaction when groups before it are still committing (pipelined)', async () => {
    await source.query(`INSERT INTO \`${db}\`.rides VALUES (12, 'twelve')`);
    await replication.caughtUp();
    await replication.stop();
    // More transactions than one commit group holds (500), so several groups are on their way at once.
    for (let i = 1000; i < 2300; i++) await source.query(`INSERT INTO \`${db}\`.rides VALUES (?, 'early')`, [i]);
    await onReplica(`DELETE FROM \`${db}\`.rides WHERE id = 12`);
    await source.query(`DELETE FROM \`${db}\`.rides WHERE id = 12`); // the row is not there to delete
    for (let i = 3000; i < 3300; i++) await source.query(`INSERT INTO \`${db}\`.rides VALUES (?, 'late')`, [i]);
    replication.start();
    const stopped = await replication.exited();
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/the row to delete in .*\.rides is not on the replica/);
    expect(await onReplica(`SELECT COUNT(*) AS n FROM \`${db}\`.rides WHERE name = 'early'`)).toEqual([{ n: '1300' }]);
    expect(await onReplica(`SELECT COUNT(*) AS n FROM \`${db}\`.rides WHERE name = 'late'`)).toEqual([{ n: '0' }]);
    expect(stateOf(replication).lastError).toMatchObject({ code: 'APPLY', table: `${db}.rides`, statement: 'delete' });
    await onReplica(`INSERT INTO \`${db}\`.rides VALUES (12, 'repaired')`);
    replication.start();
    await replication.caughtUp();
    expect(await onReplica(`SELECT COUNT(*) AS n FROM \`${db}\`.rides WHERE id = 12`)).toEqual([{ n: '0' }]);
    expect(await onReplica(`SELECT COUNT(*) AS n FROM \`${db}\`.rides WHERE name = 'late'`)).toEqual([{ n: '300' }]);
  });
});

describe('bad state files and unreachable servers', () => {
  it('leaves a corrupted state file untouched and says so', async () => {
    const path = join(scratch.path, 'corrupt.sqlite');
    writeFileSync(path, 'this is not a database\n'.repeat(50));
    const before = readFileSync(path);
    for (const args of [['start', '--databases', db, '--source', 'mysql://u@127.0.0.1', '--replica', 'mysql://u@127.0.0.1'], ['position', 'show']]) {
      const result = await runCli([...args, '--state', path]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`binlog-sync: ${path} is not a binlog-sync state file (it was left untouched)\n`);
    }
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('reports unreachable hosts in one line with exit 1', async () => {
    const r = new Replication({ databases: [db] });
    const { replica } = testServers();
    const set = await r.cli(['position', 'set', '--file', 'mysql-bin.000001', '--pos', '4', '--replica', replica.userUrl, '--state', r.statePath]);
    expect(set.code).toBe(0);
    const result = await runCli(['start', '--databases', db, '--source', 'mysql://repl_user@127.0.0.1:1', '--replica', replica.userUrl, '--state', r.statePath]);
    r.dispose();
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n').filter((l) => l.startsWith('binlog-sync:'))).toEqual([
      'binlog-sync: cannot connect to the source repl_user@127.0.0.1:1: connection refused (is the server running and the port right?)',
    ]);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('a DDL filling rows from USER() (innodb.innodb-alter-timestamp)', () => {
  it("stops naming the function and the way on where the replica's account does not fit; skip passes it", async () => {
    await replication.caughtUp();
    const [[{ n }]] = (await source.query('SELECT LENGTH(USER()) AS n')) as unknown as [[{ n: number }]];
    await source.query(`CREATE TABLE \`${db}\`.visits (id INT PRIMARY KEY) ENGINE=InnoDB`);
    await source.query(`INSERT INTO \`${db}\`.visits VALUES (1), (2)`);
    // Just wide enough for the source's user: binlog-sync's (binlog_sync@127.0.0.1) is longer.
    await source.query(`ALTER TABLE \`${db}\`.visits ADD COLUMN who VARCHAR(${Number(n)}) NULL DEFAULT USER()`);
    const stopped = await replication.exited();
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(
      /binlog-sync: applying ALTER TABLE on .*\.visits at GTID \d+-\d+-\d+, .*Data too long for column 'who'.*; the statement fills rows from USER\(\), which the replica evaluates as its own session's account .*then `binlog-sync skip`\n$/,
    );
    // The way on: the statement by hand with the source's value, then skip.
    const [[{ user }]] = (await source.query('SELECT USER() AS user')) as unknown as [[{ user: string }]];
    await onReplica(`ALTER TABLE \`${db}\`.visits ADD COLUMN who VARCHAR(${Number(n)}) NULL DEFAULT '${user.replace(/'/g, "''")}'`);
    const skip = await replication.cli(['skip', ...replication.connectionArgs]);
    expect(skip.code, skip.stderr).toBe(0);
    replication.start();
    await source.query(`INSERT INTO \`${db}\`.visits (id) VALUES (3)`);
    await replication.caughtUp();
    expect(await onReplica(`SELECT COUNT(*) AS n FROM \`${db}\`.visits`)).toEqual([{ n: '3' }]);
  });
});
