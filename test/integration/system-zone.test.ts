// DDL logged under time_zone = SYSTEM (the default on most servers): its
// TIMESTAMP defaults and conversions mean the source's system zone, not the
// replica's. (The server's own replica gets this wrong: it runs such DDL in
// its own system zone; here the source itself is the expectation.)
import { afterAll, beforeAll, describe, it } from 'vitest';
import mysql, { type Connection } from 'mysql2/promise';
import { EXACT_VALUES } from '../support/context.js';
import { expectIdentical } from '../support/compare.js';
import { Replication } from '../support/replication.js';
import { destroyServers, startServer, type ManagedServer } from '../support/servers.js';

const db = 'system_zone';
let sourceServer: ManagedServer;
let replicaServer: ManagedServer;
let source: Connection;
let replication: Replication;

beforeAll(async () => {
  [sourceServer, replicaServer] = await Promise.all([
    // No default-time-zone: the source's time_zone is SYSTEM, its process zone Asia/Kolkata (+05:30, no daylight saving).
    startServer({ role: 'source', serverId: 141, timeZone: 'Asia/Kolkata' }),
    startServer({ role: 'replica', serverId: 142, timeZone: 'Pacific/Auckland' }),
  ]);
  source = await mysql.createConnection({ uri: sourceServer.info.adminUrl, ...EXACT_VALUES });
  replication = new Replication({ databases: [db], source: sourceServer.info, replica: replicaServer.info });
  await replication.setCurrentPosition();
  replication.start();
});

afterAll(async () => {
  await replication?.close();
  await source?.end();
  await destroyServers(sourceServer, replicaServer);
});

describe('DDL under time_zone = SYSTEM', () => {
  it('defaults and converts TIMESTAMPs in the source system zone', async () => {
    await source.query('SET time_zone = SYSTEM');
    await source.query(`CREATE DATABASE ${db}`);
    await source.query(`CREATE TABLE ${db}.z (id INT PRIMARY KEY, d TIMESTAMP NULL DEFAULT '2010-06-01 12:00:00', l DATETIME)`);
    await source.query(`INSERT INTO ${db}.z (id, l) VALUES (1, '2020-01-01 00:00:00'), (2, '2023-07-01 23:45:00')`);
    await source.query(`ALTER TABLE ${db}.z MODIFY l TIMESTAMP NULL`);
    await source.query(`ALTER TABLE ${db}.z ADD COLUMN u TIMESTAMP NOT NULL DEFAULT '2001-01-01 00:00:00', ADD COLUMN late DATETIME(6) NOT NULL DEFAULT NOW(6)`);
    await replication.caughtUp();
    await expectIdentical(db, db, { source: sourceServer.info, replica: replicaServer.info });
  });
});
