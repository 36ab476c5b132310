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
});
