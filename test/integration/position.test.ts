// `position set` by file and offset, and by GTID: `start` continues exactly
// after the given transaction, as CHANGE MASTER TO would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, dropDatabases, testServers, uniqueName } from '../support/context.js';
import { imageOf } from '../support/compare.js';
import { Replication, sourcePosition } from '../support/replication.js';

const db = uniqueName('position');
let source: Connection;

beforeAll(async () => {
  source = await adminConnection('source');
});

afterAll(async () => {
  await source?.end();
  await dropDatabases([db]);
});

async function replicaRows(): Promise<string[]> {
  const replica = await adminConnection('replica');
  const image = await imageOf(replica, db);
  await replica.end();
  return image.tables.t?.rows ?? [];
}

describe('position set', () => {
  it('continues after the transaction at --file/--pos, and after the one at --gtid', async () => {
    const { source: src, replica } = testServers();
    const first = await sourcePosition(source);
    await source.query(`CREATE DATABASE \`${db}\``);
    await source.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY)`);
    await source.query(`INSERT INTO \`${db}\`.t VALUES (1)`);
    const afterOne = await sourcePosition(source);
    const [gtidRows] = await source.query('SELECT @@gtid_binlog_pos AS pos');
    const gtidAfterOne = (gtidRows as Array<{ pos: string }>)[0]!.pos;
    await source.query(`INSERT INTO \`${db}\`.t VALUES (2)`);

    // From the start: everything, including the CREATE DATABASE.
    const byFile = new Replication({ databases: [db] });
    const set = await byFile.cli(['position', 'set', '--file', first.file!, '--pos', String(first.position), '--source', src.userUrl, '--replica', replica.userUrl, '--state', byFile.statePath]);
    expect(set.code).toBe(0);
    expect(set.stdout.startsWith(`position set to ${first.file}:${first.position}`)).toBe(true);
    byFile.start();
    await byFile.caughtUp();
    await byFile.stop();
    byFile.dispose();
    expect((await replicaRows()).length).toBe(2);

    // Delete row 2 on the replica, then replay from the GTID after row 1: row 2 comes back, row 1 is not doubled.
    const fix = await adminConnection('replica');
    await fix.query(`DELETE FROM \`${db}\`.t WHERE id = 2`);
    await fix.end();
    const byGtid = new Replication({ databases: [db] });
    const setGtid = await byGtid.cli(['position', 'set', '--gtid', gtidAfterOne, '--replica', replica.userUrl, '--state', byGtid.statePath]);
    expect(setGtid).toMatchObject({ code: 0, stdout: `position set to gtid ${gtidAfterOne}\n` });
    byGtid.start();
    await byGtid.caughtUp();
    await byGtid.stop();
    byGtid.dispose();
    expect((await replicaRows()).length).toBe(2);
    expect(afterOne.position).toBeGreaterThan(first.position!);
  });

  it('sets the positions of several streams on one replica at once, none refused by a deadlock', async () => {
    // Each claims a checkpoint row not there yet: read with a lock, a missing
    // row locked its gap, and claims made at once deadlocked on their inserts.
    const { source: src, replica } = testServers();
    const streams = Array.from({ length: 6 }, () => new Replication({ databases: [db] }));
    const results = await Promise.all(
      streams.map((s) => s.cli(['position', 'set', '--current', '--source', src.userUrl, '--replica', replica.userUrl, '--state', s.statePath])),
    );
    for (const s of streams) s.dispose();
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
    expect(results.every((r) => r.stdout.startsWith('position set to '))).toBe(true);
  });
});
