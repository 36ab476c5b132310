// Bounded memory: a backlog of a million rows (one 200,000-row transaction
// among them) is caught up with the stream paused whenever the applier falls
// behind, instead of buffered, and every row arrives.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql, { type Connection } from 'mysql2/promise';
import { uniqueName } from '../support/context.js';
import { Replication } from '../support/replication.js';
import { type ManagedServer, destroyServers, startServerPair } from '../support/servers.js';

const db = uniqueName('backlog');
let sourceServer: ManagedServer;
let replicaServer: ManagedServer;
let replication: Replication;
let source: Connection;

beforeAll(async () => {
  [sourceServer, replicaServer] = await startServerPair([51, 52]);
  replication = new Replication({ databases: [db], source: sourceServer.info, replica: replicaServer.info });
  await replication.setCurrentPosition();
  source = await mysql.createConnection({ uri: sourceServer.info.adminUrl });
});

afterAll(async () => {
  await replication?.close();
  await source?.end();
  await destroyServers(sourceServer, replicaServer);
});

/** Resident memory of a process, in MiB. */
function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function checksum(conn: Connection): Promise<string> {
  const [rows] = await conn.query(`CHECKSUM TABLE \`${db}\`.t`);
  return String((rows as Array<{ Checksum: string | number }>)[0]!.Checksum);
}

describe('a backlog of a million rows', () => {
  it('arrives whole while memory stays flat', async () => {
    await source.query(`CREATE DATABASE \`${db}\``);
    await source.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, a INT, b VARCHAR(100), c DOUBLE)`);
    const fill = (from: number, to: number): Promise<unknown> =>
      source.query(`INSERT INTO \`${db}\`.t SELECT seq, seq % 1000, CONCAT('row ', seq, ' of the backlog'), seq / 7 FROM mysql.seq_${from}_to_${to}`);
    for (let i = 0; i < 8; i++) await fill(i * 100_000 + 1, (i + 1) * 100_000);
    await fill(800_001, 1_000_000); // one transaction of 200,000 rows

    const started = Date.now();
    replication.start();
    const samples: number[] = [];
    const sampler = setInterval(() => {
      try {
        samples.push(rssMiB(replication.pid!));
      } catch {
        // not running (yet)
      }
    }, 100);
    await replication.caughtUp(600_000);
    clearInterval(sampler);
    const peak = rssMiB(replication.pid!, 'VmHWM');
    const seconds = (Date.now() - started) / 1000;

    const replica = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
    const [count] = await replica.query(`SELECT COUNT(*) AS n FROM \`${db}\`.t`);
    expect((count as Array<{ n: number }>)[0]!.n).toBe(1_000_000);
    expect(await checksum(replica)).toBe(await checksum(source));
    await replica.end();

    const half = Math.floor(samples.length / 2);
    const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    console.log(
      `backlog: 1,000,000 rows in ${seconds.toFixed(1)} s; peak RSS ${peak.toFixed(0)} MiB; ` +
        `mean RSS first half ${avg(samples.slice(0, half)).toFixed(0)} MiB, second half ${avg(samples.slice(half)).toFixed(0)} MiB`,
    );
    // A generous bound: with a leak (rows kept after they are applied) the
    // peak grows with the backlog and passes 300 MiB here.
    expect(peak).toBeLessThan(280);
  });
});

describe('a value too large for the decoding thread', () => {
  it('arrives whole: the stream is decoded on the main thread instead', async () => {
    const big = uniqueName('bigvalue');
    // A small heap for the decoding thread, so that a few MiB of text exhaust it.
    const small = new Replication({ databases: [big], source: sourceServer.info, replica: replicaServer.info, env: { BINLOG_SYNC_DECODE_THREAD_HEAP_MB: '4' } });
    try {
      await small.setCurrentPosition();
      await source.query(`CREATE DATABASE \`${big}\``);
      await source.query(`CREATE TABLE \`${big}\`.t (id INT PRIMARY KEY, body LONGTEXT)`);
      await source.query('START TRANSACTION');
      for (let id = 1; id <= 3; id++) await source.query(`INSERT INTO \`${big}\`.t VALUES (?, REPEAT(CONCAT('row ', ?, ' '), 800000))`, [id, id]);
      await source.query('COMMIT');
      small.start();
      await small.caughtUp(120_000);
      const replica = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
      const digest = `SELECT id, LENGTH(body) AS n, MD5(body) AS h FROM \`${big}\`.t ORDER BY id`;
      const [want] = await source.query(digest);
      const [got] = await replica.query(digest);
      await replica.end();
      expect(got).toStrictEqual(want);
      expect((want as unknown[]).length).toBe(3);
      expect(small.output!.stderr).toContain('decoding on the main thread');
    } finally {
      await small.close();
    }
  });
});

describe('a replica that refuses local files (local_infile off)', () => {
  it('takes large inserts as INSERT statements instead of LOAD DATA', async () => {
    const name = uniqueName('noinfile');
    const replica = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
    const loads = async (): Promise<number> => {
      const [rows] = await replica.query("SHOW GLOBAL STATUS LIKE 'Com_load'");
      return Number((rows as Array<{ Value: string }>)[0]!.Value);
    };
    // (The SQL path: the one that loads large inserts as files. On the BINLOG path the replica applies them itself.)
    const plain = new Replication({ databases: [name], source: sourceServer.info, replica: replicaServer.info, env: { BINLOG_SYNC_ROW_APPLIER: 'sql' } });
    await replica.query('SET GLOBAL local_infile = 0');
    try {
      await plain.setCurrentPosition();
      await source.query(`CREATE DATABASE \`${name}\``);
      await source.query(`CREATE TABLE \`${name}\`.t (id INT PRIMARY KEY, b VARCHAR(100))`);
      await source.query(`INSERT INTO \`${name}\`.t SELECT seq, CONCAT('row\t', seq, '\\\\') FROM mysql.seq_1_to_20000`);
      const before = await loads();
      plain.start();
      await plain.caughtUp(120_000);
      expect(await loads()).toBe(before);
      // The run says what it goes without, in status --json (and its text form).
      const report = await plain.status();
      expect(report.runner?.capabilities).toEqual({ binlogStatements: false, loadData: false, decodeThread: true });
      expect(report.runner?.applyMode).toEqual({ kind: 'grouped' });
      const text = await plain.cli(['status', '--state', plain.statePath]);
      expect(text.stdout).toContain('without:    loadData for the rest of this run');
      expect(text.stdout).toContain('row events: applied as SQL statements');
      const digest = `SELECT COUNT(*) AS n, SUM(CRC32(CONCAT(id, '|', b))) AS h FROM \`${name}\`.t`;
      const [want] = await source.query(digest);
      const [got] = await replica.query(digest);
      expect(got).toStrictEqual(want);
      expect((want as Array<{ n: unknown }>)[0]!.n).toBe(20000);
    } finally {
      await replica.query('SET GLOBAL local_infile = 1');
      await replica.end();
      await plain.close();
    }
  });
});
