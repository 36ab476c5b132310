// A source transaction is all or nothing on the replica, however its events
// arrive: here the binlog stream is dribbled through a throttled proxy, so the
// applier often runs out of events in the middle of a transaction while
// earlier ones wait in a commit group.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, dropDatabases, testServers, uniqueName } from '../support/context.js';
import { expectIdentical } from '../support/compare.js';
import { Replication } from '../support/replication.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const db = uniqueName('atomic');
let source: Connection;
let proxy: TcpProxy;
let replication: Replication;

beforeAll(async () => {
  source = await adminConnection('source');
  const { source: info } = testServers();
  proxy = await TcpProxy.start(info.host, info.port);
  const url = new URL(info.userUrl);
  url.port = String(proxy.port);
  replication = new Replication({ databases: [db], source: { ...info, port: proxy.port, userUrl: url.toString().replace(/\/$/, '') } });
  await replication.setCurrentPosition();
  replication.start();
  await source.query(`CREATE DATABASE \`${db}\``);
  await source.query(`CREATE TABLE \`${db}\`.t (batch INT NOT NULL, n INT NOT NULL)`);
  await replication.caughtUp();
});

afterAll(async () => {
  await replication?.close();
  await proxy?.close();
  await source?.end();
  await dropDatabases([db]);
});

describe('atomicity', () => {
  it('never shows part of a transaction, nor repeats one after a kill, when events arrive in pieces', async () => {
    await replication.stop();
    for (let batch = 1; batch <= 30; batch++) {
      // Small transactions (grouped while a backlog waits) between larger ones.
      await source.query(`INSERT INTO \`${db}\`.t VALUES (?, 0)`, [batch]);
      await source.query(`INSERT INTO \`${db}\`.t SELECT ?, seq FROM mysql.seq_1_to_500`, [batch]);
    }
    proxy.throttle(512);
    replication.start();
    const replica = await adminConnection('replica');
    const partial: string[] = [];
    let killed = false;
    const deadline = Date.now() + 90_000;
    for (;;) {
      const [rows] = await replica.query(`SELECT batch, COUNT(*) AS n FROM \`${db}\`.t WHERE n > 0 GROUP BY batch`);
      for (const r of rows as Array<{ batch: number; n: string }>) if (Number(r.n) !== 500) partial.push(`batch ${r.batch}: ${r.n} rows`);
      const done = (rows as unknown[]).length;
      if (!killed && done >= 10) {
        await replication.kill();
        killed = true;
        replication.start();
      }
      if (done === 30 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    await replica.end();
    proxy.restore();
    await replication.caughtUp();
    expect(partial).toEqual([]);
    await expectIdentical(db);
  });
});
