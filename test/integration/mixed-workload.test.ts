// The engine's acceptance test: several clients run a mixed workload (row
// changes of many kinds, multi-statement and partly replicated transactions,
// rollbacks, DDL, tables without keys, cascades, other row images) against the
// source while `start` runs and is killed once, and the replica's copy ends up
// identical to the source's, with no other database of the workload on it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, dropDatabases, uniqueName } from '../support/context.js';
import { expectIdentical, userDatabases } from '../support/compare.js';
import { startReplication, type Replication } from '../support/replication.js';

const db = uniqueName('mixed');
const other = uniqueName('mixed_other');
let replication: Replication;

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

beforeAll(async () => {
  replication = await startReplication({ databases: [db] });
  const source = await adminConnection('source');
  await source.query(`CREATE DATABASE \`${db}\``);
  await source.query(`CREATE DATABASE \`${other}\``);
  await source.query(`USE \`${db}\``);
  await source.query('CREATE TABLE parks (id INT PRIMARY KEY, name VARCHAR(60) NOT NULL, opened DATE, tz VARCHAR(40))');
  await source.query(
    'CREATE TABLE rides (id INT AUTO_INCREMENT PRIMARY KEY, park_id INT NOT NULL, name VARCHAR(60), thrill DECIMAL(4,2), ' +
      'FOREIGN KEY (park_id) REFERENCES parks (id) ON DELETE CASCADE ON UPDATE CASCADE)',
  );
  await source.query(
    'CREATE TABLE wait_times (ride_id INT NOT NULL, measured TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), minutes SMALLINT, note TEXT, ' +
      'FOREIGN KEY (ride_id) REFERENCES rides (id) ON DELETE CASCADE)',
  );
  await source.query(`CREATE TABLE \`${other}\`.noise (id INT AUTO_INCREMENT PRIMARY KEY, v INT)`);
  for (let p = 1; p <= 20; p++) await source.query('INSERT INTO parks VALUES (?, ?, ?, ?)', [p, `Park ${p} ✓`, '2000-01-01', 'Europe/Amsterdam']);
  await source.end();
});

afterAll(async () => {
  await replication?.close();
  await dropDatabases([db, other]);
});

async function client(seed: number, operations: number): Promise<void> {
  const random = rng(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  const conn = await adminConnection('source');
  await conn.query(`USE \`${db}\``);
  try {
    for (let i = 0; i < operations; i++) {
      try {
        await operation(conn, random, pick, seed, i);
      } catch (error) {
        // Clients collide on the source (a park renumbered under an insert, a
        // deadlock); the source refused it, so there is nothing to replicate.
        const errno = (error as { errno?: number }).errno;
        if (![1452, 1213, 1205, 1062, 1451].includes(errno ?? 0)) throw error;
        await conn.query('ROLLBACK');
      }
    }
  } finally {
    await conn.end();
  }
}

async function operation(conn: Connection, random: () => number, pick: <T>(items: T[]) => T, seed: number, i: number): Promise<void> {
  const park = 1 + Math.floor(random() * 20);
  const op = random();
  if (op < 0.3) {
    await conn.query('INSERT INTO rides (park_id, name, thrill) VALUES (?, ?, ?), (?, ?, ?)', [park, `ride-${seed}-${i}`, (random() * 99).toFixed(2), park, null, '1.50']);
  } else if (op < 0.5) {
    await conn.query('INSERT INTO wait_times (ride_id, minutes, note) SELECT id, ?, ? FROM rides WHERE park_id = ? ORDER BY id LIMIT 2', [
      Math.floor(random() * 120),
      pick(['short', 'long', null, 'x'.repeat(300)]),
      park,
    ]);
  } else if (op < 0.6) {
    await conn.query('UPDATE wait_times SET minutes = minutes + 1 WHERE ride_id IN (SELECT id FROM rides WHERE park_id = ?) LIMIT 3', [park]);
  } else if (op < 0.68) {
    await conn.query('START TRANSACTION');
    await conn.query('UPDATE parks SET name = CONCAT(name, ?) WHERE id = ?', ['!', park]);
    await conn.query(`INSERT INTO \`${other}\`.noise (v) VALUES (?)`, [i]);
    await conn.query('DELETE FROM wait_times WHERE minutes > 100 LIMIT 2');
    await conn.query(random() < 0.2 ? 'ROLLBACK' : 'COMMIT');
  } else if (op < 0.74) {
    await conn.query('DELETE FROM rides WHERE park_id = ? ORDER BY id LIMIT 1', [park]); // cascades to wait_times
  } else if (op < 0.78) {
    await conn.query('SET SESSION binlog_row_image = ?', [pick(['MINIMAL', 'NOBLOB', 'FULL'])]);
    await conn.query('UPDATE rides SET thrill = thrill + 0.01 WHERE park_id = ?', [park]);
    await conn.query('SET SESSION binlog_row_image = FULL');
  } else if (op < 0.8) {
    await conn.query('UPDATE parks SET id = id + 1000 WHERE id = ?', [park]); // cascades to rides
    await conn.query('UPDATE parks SET id = id - 1000 WHERE id = ?', [park + 1000]);
  } else if (op < 0.81 && seed === 1) {
    await conn.query(`ALTER TABLE rides ADD COLUMN extra_${i} INT DEFAULT ${i}`);
  } else {
    await conn.query(`INSERT INTO \`${other}\`.noise (v) VALUES (?)`, [i]);
  }
}

describe('a mixed workload from several clients', () => {
  it('ends identical on the replica, across a SIGKILL of the replicator', async () => {
    const clients = [1, 2, 3, 4].map((seed) => client(seed, 250));
    await new Promise((r) => setTimeout(r, 700));
    await replication.kill();
    replication.start();
    await Promise.all(clients);
    await replication.caughtUp(120_000);

    const image = await expectIdentical(db);
    expect(image.tables.rides!.rows.length).toBeGreaterThan(100);
    expect(image.tables.wait_times!.rows.length).toBeGreaterThan(10);
    const replica = await adminConnection('replica');
    const databases = await userDatabases(replica);
    await replica.end();
    expect(databases).toContain(db);
    expect(databases).not.toContain(other);
  });
});
