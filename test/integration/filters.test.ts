// --include-tables and --exclude-tables: only the chosen tables' rows and DDL
// reach the replica; exclude wins over include.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, dropDatabases, uniqueName } from '../support/context.js';
import { imageOf } from '../support/compare.js';
import { startReplication, type Replication } from '../support/replication.js';

const db = uniqueName('filters');
let source: Connection;
let replication: Replication;

beforeAll(async () => {
  source = await adminConnection('source');
  replication = await startReplication({
    databases: [db],
    args: ['--include-tables', `${db}.park*,${db}.ride?`, '--exclude-tables', `${db}.parks_secret`],
  });
  await source.query(`CREATE DATABASE \`${db}\``);
});

afterAll(async () => {
  await replication?.close();
  await source?.end();
  await dropDatabases([db]);
});

describe('table filters', () => {
  it('replicates the included tables only, and never the excluded one', async () => {
    for (const table of ['parks', 'parks_secret', 'rides', 'ride_waits', 'rideX']) {
      await source.query(`CREATE TABLE \`${db}\`.\`${table}\` (id INT PRIMARY KEY, v INT)`);
      await source.query(`INSERT INTO \`${db}\`.\`${table}\` VALUES (1, 1), (2, 2)`);
    }
    await source.query('START TRANSACTION');
    await source.query(`UPDATE \`${db}\`.parks SET v = 10`);
    await source.query(`UPDATE \`${db}\`.parks_secret SET v = 10`);
    await source.query(`DELETE FROM \`${db}\`.ride_waits`);
    await source.query('COMMIT');
    await source.query(`ALTER TABLE \`${db}\`.parks ADD COLUMN extra INT`);
    await source.query(`ALTER TABLE \`${db}\`.parks_secret ADD COLUMN extra INT`);
    await replication.caughtUp();

    const replica = await adminConnection('replica');
    const image = await imageOf(replica, db);
    await replica.end();
    expect(Object.keys(image.tables).sort()).toEqual(['parks', 'rideX', 'rides']);
    expect(image.tables.parks!.definition).toContain('`extra`');
    expect(image.tables.parks!.rows).toHaveLength(2);
  });

  it('keeps large row changes of an excluded table off the replica, beside those of an included one', async () => {
    // One transaction, many rows events of both tables (dropped, or loaded and joined, where they are decoded).
    await source.query('START TRANSACTION');
    await source.query(`INSERT INTO \`${db}\`.parks_secret (id, v) SELECT seq, seq FROM mysql.seq_100_to_5099`);
    await source.query(`INSERT INTO \`${db}\`.parks (id, v) SELECT seq, seq FROM mysql.seq_100_to_5099`);
    await source.query(`UPDATE \`${db}\`.parks_secret SET v = v + 1`);
    await source.query(`UPDATE \`${db}\`.parks SET v = v * 2 WHERE id >= 100`);
    await source.query('COMMIT');
    await replication.caughtUp();
    const replica = await adminConnection('replica');
    const [parks] = await replica.query(`SELECT COUNT(*) AS n, SUM(v) AS total FROM \`${db}\`.parks WHERE id >= 100`);
    const [tables] = await replica.query(`SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1`, [db]);
    await replica.end();
    expect(parks).toEqual([{ n: '5000', total: String(2 * ((100 + 5099) * 5000) / 2) }]);
    expect((tables as Array<{ t: string }>).map((r) => r.t).sort()).toEqual(['parks', 'rideX', 'rides']);
  });
});
