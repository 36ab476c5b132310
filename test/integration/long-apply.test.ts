// A transaction that takes long to apply (here: held up by a lock on the
// replica) while a large backlog waits behind it. The stream is held back
// the whole time; the source must not close it (its net_write_timeout is
// 2 s on this source), or the work would be thrown away and redone, and a
// transaction slower than the timeout would be applied over and over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql, { type Connection } from 'mysql2/promise';
import { EXACT_VALUES, eventually } from '../support/context.js';
import { expectIdentical } from '../support/compare.js';
import { Replication } from '../support/replication.js';
import { destroyServers, startServer, type ManagedServer } from '../support/servers.js';

const db = 'long_apply';
let sourceServer: ManagedServer;
let replicaServer: ManagedServer;
let source: Connection;
let replication: Replication;

beforeAll(async () => {
  [sourceServer, replicaServer] = await Promise.all([
    startServer({ role: 'source', serverId: 111, options: { 'net-write-timeout': 2 } }),
    startServer({ role: 'replica', serverId: 112 }),
  ]);
  source = await mysql.createConnection({ uri: sourceServer.info.adminUrl, ...EXACT_VALUES });
  replication = new Replication({ databases: [db], source: sourceServer.info, replica: replicaServer.info });
  await replication.setCurrentPosition();
  replication.start();
  await source.query(`CREATE DATABASE ${db}`);
  await source.query(`CREATE TABLE ${db}.hot (id INT PRIMARY KEY, v INT NOT NULL)`);
  await source.query(`CREATE TABLE ${db}.bulk (id INT PRIMARY KEY, pad VARCHAR(200) NOT NULL)`);
  await source.query(`INSERT INTO ${db}.hot VALUES (1, 0)`);
  await replication.caughtUp();
});

afterAll(async () => {
  await replication?.close();
  await source?.end();
  await destroyServers(sourceServer, replicaServer);
});

describe('a transaction that takes long to apply', () => {
  it('keeps the binlog connection: no reconnect, nothing applied twice, the replica identical', async () => {
    // A lock on the replica holds up one transaction's update for longer than the source's timeout.
    const blocker = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
    await blocker.query('START TRANSACTION');
    await blocker.query(`SELECT * FROM ${db}.hot WHERE id = 1 FOR UPDATE`);
    // A large transaction before it, and a backlog behind it, far more than the stream holds in memory.
    await source.query(`INSERT INTO ${db}.bulk SELECT seq, REPEAT('x', 200) FROM mysql.seq_1_to_100000`);
    await source.query(`UPDATE ${db}.hot SET v = v + 1 WHERE id = 1`);
    await source.query(`INSERT INTO ${db}.bulk SELECT seq, REPEAT('y', 200) FROM mysql.seq_100001_to_200000`);
    for (let i = 0; i < 50; i++) await source.query(`UPDATE ${db}.hot SET v = v + 1 WHERE id = 1`);
    // The large transaction before the slow one is committed on its own, not held in a group with it.
    const replica = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
    await eventually(
      async () => Number(((await replica.query(`SELECT COUNT(*) AS n FROM ${db}.bulk`))[0] as Array<{ n: number }>)[0]!.n),
      (n) => n === 100_000,
      { timeoutMs: 30_000 },
    );
    await replica.end();
    await new Promise((r) => setTimeout(r, 4_000));
    await blocker.query('ROLLBACK');
    await blocker.end();

    await replication.caughtUp(120_000);
    expect(await replication.reconnects()).toBe(0);
    await expectIdentical(db, db, { source: sourceServer.info, replica: replicaServer.info });
  });
});
