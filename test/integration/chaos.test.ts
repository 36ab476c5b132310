// Chaos: a steady random write load with DDL on the source, the replicator
// SIGKILLed every few seconds and started again, the source server restarted
// once and the replica server once, all at the same time. At the end the
// replica is identical to the source and the replicator is still running.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql, { type Connection } from 'mysql2/promise';
import { EXACT_VALUES, uniqueName } from '../support/context.js';
import { expectIdentical } from '../support/compare.js';
import { Replication } from '../support/replication.js';
import { type ManagedServer, destroyServers, startServerPair } from '../support/servers.js';

const db = uniqueName('chaos');
let sourceServer: ManagedServer;
let replicaServer: ManagedServer;
let replication: Replication;
const CHAOS_MS = 20_000;

beforeAll(async () => {
  [sourceServer, replicaServer] = await startServerPair([41, 42], ['Pacific/Auckland', 'America/Denver']);
  replication = new Replication({ databases: [db], source: sourceServer.info, replica: replicaServer.info });
  await replication.setCurrentPosition();
  replication.start();
  const conn = await mysql.createConnection({ uri: sourceServer.info.adminUrl });
  await conn.query(`CREATE DATABASE \`${db}\``);
  await conn.query(`CREATE TABLE \`${db}\`.ledger (txn INT NOT NULL, part TINYINT NOT NULL, amount DECIMAL(12,2), at TIMESTAMP(6) NULL)`);
  await conn.query(`CREATE TABLE \`${db}\`.accounts (id INT PRIMARY KEY, balance DECIMAL(14,2) NOT NULL, note VARCHAR(50))`);
  await conn.query(`INSERT INTO \`${db}\`.accounts SELECT seq, 1000, NULL FROM mysql.seq_1_to_50`);
  await conn.end();
});

afterAll(async () => {
  await replication?.close();
  await destroyServers(sourceServer, replicaServer);
});

/** Writes transactions until `until`; rides out the source restart by reconnecting. */
async function writeLoad(until: number, seed: number): Promise<number> {
  let conn: Connection | undefined;
  let committed = 0;
  let k = seed * 1_000_000;
  while (Date.now() < until) {
    try {
      conn ??= await mysql.createConnection({ uri: sourceServer.info.adminUrl, ...EXACT_VALUES });
      k++;
      const a = 1 + (k % 50);
      const b = 1 + ((k * 7) % 50);
      await conn.query('START TRANSACTION');
      await conn.query(`INSERT INTO \`${db}\`.ledger VALUES (?, 1, -5.25, NOW(6)), (?, 2, 5.25, NOW(6))`, [k, k]);
      await conn.query(`UPDATE \`${db}\`.accounts SET balance = balance - 5.25 WHERE id = ?`, [a]);
      await conn.query(`UPDATE \`${db}\`.accounts SET balance = balance + 5.25, note = ? WHERE id = ?`, [`from ${a}`, b]);
      await conn.query('COMMIT');
      committed++;
      if (seed === 1 && k % 200 === 0) {
        await conn.query(`ALTER TABLE \`${db}\`.accounts ADD COLUMN c${k % 100000} INT DEFAULT ${k % 1000}`);
      }
      if (k % 97 === 0) await conn.query(`DELETE FROM \`${db}\`.ledger WHERE txn = ? LIMIT 1`, [k - 50]);
    } catch {
      // The source is restarting (or a deadlock): drop the connection and go on.
      await conn?.end().catch(() => undefined);
      conn = undefined;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await conn?.end().catch(() => undefined);
  return committed;
}

describe('chaos', () => {
  it('ends identical, with the replicator running, after kills and server restarts under load', async () => {
    const until = Date.now() + CHAOS_MS;
    const writers = [1, 2, 3].map((seed) => writeLoad(until, seed));
    let kills = 0;
    let sourceRestarted = false;
    let replicaRestarted = false;
    // At least four kills and both restarts, however slow a busy machine makes each round (the load stops at `until`).
    while (Date.now() < until || kills < 4 || !replicaRestarted) {
      await new Promise((r) => setTimeout(r, 2000 + Math.random() * 1500));
      await replication.kill();
      kills++;
      replication.start();
      // A server restart is a fault for a running replicator; one that is
      // still starting up exits 1 instead (unreachable at start is the user's to fix).
      await replication.streaming();
      const elapsed = CHAOS_MS - (until - Date.now());
      if (!sourceRestarted && (elapsed > CHAOS_MS * 0.3 || kills >= 2)) {
        sourceRestarted = true;
        await sourceServer.restart();
      } else if (!replicaRestarted && (elapsed > CHAOS_MS * 0.6 || kills >= 3)) {
        replicaRestarted = true;
        await replicaServer.restart();
      }
    }
    const committed = (await Promise.all(writers)).reduce((a, b) => a + b, 0);
    await replication.caughtUp(120_000);

    const image = await expectIdentical(db, db, { source: sourceServer.info, replica: replicaServer.info });
    expect(committed).toBeGreaterThan(100);
    expect(image.tables.ledger!.rows.length).toBeGreaterThan(100);
    expect(kills).toBeGreaterThanOrEqual(4);
    expect(sourceRestarted && replicaRestarted).toBe(true);
    expect(replication.output!.code).toBeNull();
    expect(replication.output!.signal).toBeNull();
    console.log(`chaos: ${committed} transactions committed on the source, ${kills} kills, source and replica restarted once each`);
  });
});
