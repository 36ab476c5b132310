// Faults `start` rides out on its own: a source restart, a replica restart,
// the source killing the dump thread, and a silent network cut that only
// heartbeats reveal. And those it cannot: a purged or reset binlog, a table
// definition gone from the source. Each test runs against servers of its
// own, which it restarts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql, { type Connection } from 'mysql2/promise';
import { EXACT_VALUES, eventually, uniqueName } from '../support/context.js';
import { expectIdentical } from '../support/compare.js';
import { Replication } from '../support/replication.js';
import { type ManagedServer, type ServerInfo, destroyServers, startServerPair } from '../support/servers.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const db = uniqueName('faults');
let sourceServer: ManagedServer;
let replicaServer: ManagedServer;
let proxy: TcpProxy;
let replication: Replication;

const admin = (server: ManagedServer): Promise<Connection> => mysql.createConnection({ uri: server.info.adminUrl, ...EXACT_VALUES });

/** The source as binlog-sync sees it: through the proxy. */
function viaProxy(info: ServerInfo): ServerInfo {
  const url = new URL(info.userUrl);
  url.port = String(proxy.port);
  return { ...info, port: proxy.port, userUrl: url.toString().replace(/\/$/, '') };
}

async function write(id: number): Promise<void> {
  const conn = await admin(sourceServer);
  await conn.query(`INSERT INTO \`${db}\`.events VALUES (?, NOW(6))`, [id]);
  await conn.end();
}

const servers = () => ({ source: sourceServer.info, replica: replicaServer.info });

beforeAll(async () => {
  [sourceServer, replicaServer] = await startServerPair([21, 22], ['Europe/Lisbon', 'America/Sao_Paulo']);
  proxy = await TcpProxy.start(sourceServer.info.host, sourceServer.info.port);
  replication = new Replication({ databases: [db], source: viaProxy(sourceServer.info), replica: replicaServer.info });
  await replication.setCurrentPosition();
  replication.start();
  const conn = await admin(sourceServer);
  await conn.query(`CREATE DATABASE \`${db}\``);
  await conn.query(`CREATE TABLE \`${db}\`.events (id INT PRIMARY KEY, at DATETIME(6))`);
  await conn.end();
  await replication.caughtUp(30_000);
});

afterAll(async () => {
  await replication?.close();
  await proxy?.close();
  await destroyServers(sourceServer, replicaServer);
});

describe('faults start rides out', () => {
  it('reconnects after the source restarts', async () => {
    const before = await replication.reconnects();
    await write(1);
    await sourceServer.restart();
    await write(2);
    await replication.caughtUp(60_000);
    await expectIdentical(db, db, servers());
    expect(await replication.reconnects()).toBeGreaterThan(before);
    expect(replication.output!.code).toBeNull(); // still running
  });

  it('rolls back and retries while the replica restarts', async () => {
    await replicaServer.stop();
    await write(3);
    await new Promise((r) => setTimeout(r, 1500));
    await replicaServer.start();
    await write(4);
    await replication.caughtUp(60_000);
    await expectIdentical(db, db, servers());
  });

  it('rolls back and retries when the replica connection dies while a large insert is being applied (LOAD DATA, or BINLOG statements)', async () => {
    const conn = await admin(sourceServer);
    await conn.query(`CREATE TABLE \`${db}\`.readings (id INT PRIMARY KEY, v VARCHAR(40))`);
    await replication.caughtUp(30_000);
    await replication.stop();
    // Several loads' worth of rows (about 2 MiB each) in one transaction.
    await conn.query(`INSERT INTO \`${db}\`.readings SELECT seq, CONCAT('reading number ', seq) FROM mysql.seq_1_to_300000`);
    await conn.end();
    const replica = await admin(replicaServer);
    try {
      replication.start();
      // Kill the applier's connection while a LOAD DATA (SQL path) or BINLOG statement of the transaction runs.
      let killed = false;
      for (let i = 0; i < 2000 && !killed; i++) {
        const [rows] = await replica.query("SELECT id FROM information_schema.PROCESSLIST WHERE INFO LIKE 'LOAD DATA LOCAL INFILE%' OR INFO LIKE 'BINLOG %'");
        const target = (rows as Array<{ id: number }>)[0];
        if (target) {
          await replica.query(`KILL ${target.id}`);
          killed = true;
        } else await new Promise((r) => setTimeout(r, 2));
      }
      expect(killed).toBe(true);
      await replication.caughtUp(60_000);
      const [count] = await replica.query(`SELECT COUNT(*) AS n FROM \`${db}\`.readings`);
      expect(count).toEqual([{ n: '300000' }]);
      await expectIdentical(db, db, servers());
      expect(await replication.reconnects()).toBeGreaterThan(0); // this process started its session again
    } finally {
      await replica.end();
    }
  });

  it('reconnects when the source kills the dump thread', async () => {
    const conn = await admin(sourceServer);
    const [threads] = await conn.query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'");
    expect((threads as unknown[]).length).toBeGreaterThan(0);
    for (const t of threads as Array<{ ID: number }>) await conn.query(`KILL ${t.ID}`);
    await conn.end();
    await write(5);
    await replication.caughtUp(60_000);
    await expectIdentical(db, db, servers());
  });

  it('tells a silent network cut from an idle stream by heartbeats, and resumes after it', async () => {
    await replication.caughtUp();
    const before = await replication.reconnects();
    // Idle but alive: quiet seconds, more than the 5 s silence window, are no reason to reconnect.
    await new Promise((r) => setTimeout(r, 7000));
    expect(await replication.status()).toMatchObject({ running: true, runner: { sourceConnected: true, reconnects: before } });

    // Cut: nothing arrives, not even an error; only the missing heartbeats tell.
    proxy.blackhole();
    await write(6);
    await eventually(() => replication.reconnects(), (n) => n > before, { timeoutMs: 60_000, intervalMs: 250 });
    // The operator's log says why it reconnected.
    expect(replication.output!.stderr).toMatch(/no data or heartbeat from the source .* for \d+ s; the connection is taken as broken/);
    proxy.restore();
    proxy.reset();
    await write(7);
    await replication.caughtUp(60_000);
    await expectIdentical(db, db, servers());
  });
});

describe('a purged binlog', () => {
  it('stops with exit 1, naming the missing binlog and `snapshot` as the way back', async () => {
    await replication.caughtUp();
    await replication.stop();
    const conn = await admin(sourceServer);
    await conn.query('FLUSH BINARY LOGS');
    await conn.query(`INSERT INTO \`${db}\`.events VALUES (100, NOW(6))`);
    // MariaDB keeps a binlog until InnoDB's checkpoint has passed it: purge
    // until only the newest file is left, so the insert above is really gone.
    for (let i = 0; i < 100; i++) {
      await conn.query('FLUSH BINARY LOGS');
      const [status] = await conn.query('SHOW MASTER STATUS');
      await conn.query(`PURGE BINARY LOGS TO '${(status as Array<{ File: string }>)[0]!.File}'`);
      const [logs] = await conn.query('SHOW BINARY LOGS');
      if ((logs as unknown[]).length === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await conn.end();
    replication.start();
    const result = await replication.exited();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/binlog-sync: the source no longer has the binlog for mysql-bin\.\d+:\d+ \(GTID position [\d-]+\) .*run `binlog-sync snapshot` to start over\n$/);
  });
});

describe('a source whose binlogs were reset', () => {
  it('stops start and refuses wait (RESET MASTER, as main.mdev-31636 does): never goes on from the same GTID in the new history', async () => {
    // (A database and a state of their own: the purged binlog above stopped the other stream.)
    const resetDb = `${db}_reset`;
    const reset = new Replication({ databases: [resetDb], source: sourceServer.info, replica: replicaServer.info });
    try {
      await reset.setCurrentPosition();
      reset.start();
      const conn = await admin(sourceServer);
      try {
        // A position well into the files and GTIDs, which the new history reaches again below.
        await conn.query(`CREATE DATABASE \`${resetDb}\``);
        await conn.query(`CREATE TABLE \`${resetDb}\`.events (id INT PRIMARY KEY, at DATETIME(6))`);
        for (let i = 0; i < 3; i++) await conn.query('FLUSH BINARY LOGS');
        for (let i = 200; i < 210; i++) await conn.query(`INSERT INTO \`${resetDb}\`.events VALUES (?, NOW(6))`, [i]);
        await reset.caughtUp();
        await conn.query('RESET MASTER');
        for (let i = 300; i < 330; i++) await conn.query(`INSERT INTO \`${resetDb}\`.events VALUES (?, NOW(6))`, [i]);
      } finally {
        await conn.end();
      }
      const result = await reset.exited(60_000);
      expect(result.code, result.stderr.slice(-2000)).toBe(1);
      expect(result.stderr).toMatch(/binlog-sync: the source's binlogs no longer hold the stream's position .*reset \(RESET MASTER\).*run `binlog-sync snapshot` to start over\n$/);
      // None of the new history's rows: it went on from nowhere.
      const replica = await admin(replicaServer);
      try {
        const [rows] = await replica.query(`SELECT COUNT(*) AS n FROM \`${resetDb}\`.events WHERE id >= 300`);
        expect(rows).toEqual([{ n: '0' }]);
      } finally {
        await replica.end();
      }
      // `wait` never says caught up with a source now behind the replica's position.
      const waited = await reset.cli(['wait', '--timeout', '5', '--source', sourceServer.info.userUrl, '--state', reset.statePath]);
      expect(waited.code).toBe(1);
      expect(waited.stderr).toMatch(/the source's binlogs were reset \(RESET MASTER\).*run `binlog-sync snapshot` to start over/);
    } finally {
      await reset.close();
    }
  });
});

describe('a table the binlog does not describe fully, gone from the source', () => {
  it('stops naming the table, the old temporal format and the way forward (main.type_time), on any row path', async () => {
    const oldDb = `${db}_old`;
    const old = new Replication({ databases: [oldDb], source: sourceServer.info, replica: replicaServer.info });
    try {
      await old.setCurrentPosition();
      const conn = await admin(sourceServer);
      try {
        // Written while binlog-sync is not running: the table is gone when it reads the rows.
        await conn.query('SET GLOBAL mysql56_temporal_format = OFF');
        await conn.query(`CREATE DATABASE \`${oldDb}\``);
        await conn.query(`CREATE TABLE \`${oldDb}\`.t1 (i INT, t TIME(6), t0 TIME)`);
        await conn.query(`INSERT INTO \`${oldDb}\`.t1 VALUES (1, '10:20:30.123456', '10:00:00')`);
        await conn.query(`DROP TABLE \`${oldDb}\`.t1`);
      } finally {
        await conn.query('SET GLOBAL mysql56_temporal_format = DEFAULT');
        await conn.end();
      }
      old.start();
      const result = await old.exited(60_000);
      expect(result.code, result.stderr.slice(-2000)).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `binlog-sync: the binlog's table map of ${oldDb}\\.t1 does not describe its columns fully .*mysql56_temporal_format=OFF.*` +
            'has changed or is gone since.*seed the replica again with `binlog-sync snapshot`.*ALTER TABLE \\.\\.\\. FORCE\\)\\n$',
        ),
      );
    } finally {
      await old.close();
    }
  });
});
