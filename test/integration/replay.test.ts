// `binlog-sync replay` on binlog files recorded here, on a source of the
// test's own (so that its binlog begins with this test, and FLUSH BINARY
// LOGS splits it into files where the test says): DDL, a type zoo and a
// table without a key, over several files, fetched as `mariadb-binlog
// --read-from-remote-server --raw` backs them up. Replayed into an empty
// replica they equal the source; replayed again they change nothing;
// `start` then continues live; the stop options stop exactly; bad files are
// refused before anything is applied.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, dropDatabases, runCli, tempDir, testServers, uniqueName } from '../support/context.js';
import { expectIdentical, imageOf } from '../support/compare.js';
import { Replication } from '../support/replication.js';
import { destroyServers, startServer, type ManagedServer } from '../support/servers.js';
import { StateStore } from '../../src/state/state-store.js';

const db = uniqueName('replay');
const scratch = tempDir('binlog-sync-replay-');
let server: ManagedServer;
let source: Connection;
let replica: Connection;
/** The recorded binlog files, in order. */
let files: string[] = [];
/** Rows of `marks` inserted before and after the stop time; the GTID of mark 2. */
let stopTime: string;
let mark2Gtid: string;

const replicaUrl = (): string => testServers().replica.userUrl;

/** The replica's copy of a database as the test's source would show it, or null when the replica has no such database. */
async function replicaImage(database: string): Promise<Awaited<ReturnType<typeof imageOf>> | null> {
  const [rows] = await replica.query('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
  return (rows as unknown[]).length === 0 ? null : imageOf(replica, database);
}

function statePath(name: string): string {
  return join(scratch.path, `${name}.sqlite`);
}

async function replay(args: string[]): Promise<Awaited<ReturnType<typeof runCli>>> {
  return runCli(['replay', '--replica', replicaUrl(), ...args], { timeoutMs: 120_000 });
}

async function marks(database: string): Promise<number[]> {
  const [rows] = await replica.query(`SELECT id FROM \`${database}\`.marks ORDER BY id`);
  return (rows as Array<{ id: number }>).map((r) => r.id);
}

beforeAll(async () => {
  server = await startServer({ role: 'source', serverId: 71 });
  source = await adminConnection('source', server.info);
  replica = await adminConnection('replica');
  await source.query(`CREATE DATABASE \`${db}\``);
  await source.query(`USE \`${db}\``);
  await source.query(`CREATE TABLE zoo (
    id INT PRIMARY KEY, big BIGINT UNSIGNED, dec_ DECIMAL(30,10), dt DATETIME(6), ts TIMESTAMP(6) NULL, t TIME(6),
    s VARCHAR(40) CHARACTER SET utf8mb4, l VARCHAR(20) CHARACTER SET latin1, b BLOB, j JSON, e ENUM('a','b,c','it''s'),
    st SET('x','y','z'), bits BIT(10), y YEAR, f DOUBLE)`);
  await source.query('CREATE TABLE keyless (name VARCHAR(20), n INT)');
  await source.query('CREATE TABLE marks (id INT PRIMARY KEY)');
  await source.query(`INSERT INTO zoo VALUES
    (1, 18446744073709551615, -12345678901234567890.0123456789, '2026-12-07 14:00:00.123456', '2038-01-19 03:14:07.999999', '-838:59:59.000000',
     'Grüße 🎢', _latin1 x'e9e8', x'00ff10', '{"a": [1, 2.5, "x"], "big": 9007199254740993}', 'b,c', 'x,z', b'1010101010', 2026, 1.5e300),
    (2, 0, 0, '0000-00-00 00:00:00', NULL, '00:00:00', '', NULL, NULL, NULL, "it's", '', b'0', NULL, -0.0)`);
  await source.query("INSERT INTO keyless VALUES ('dup', 1), ('dup', 1), ('other', 2)");
  await source.query('FLUSH BINARY LOGS');
  // DDL in the middle of the stream: the rows after it are decoded with the new definition.
  await source.query('ALTER TABLE zoo ADD COLUMN extra VARCHAR(10) DEFAULT \'new\' AFTER id');
  await source.query("UPDATE keyless SET n = 5 WHERE name = 'dup' LIMIT 1");
  await source.query("DELETE FROM keyless WHERE name = 'other'");
  await source.query("INSERT INTO zoo (id, extra, s) VALUES (3, 'three', 'after the ALTER')");
  await source.query('BEGIN');
  for (let i = 10; i < 60; i++) await source.query('INSERT INTO zoo (id, s, big) VALUES (?, ?, ?)', [i, `row ${i}`, i * 1000]);
  await source.query('COMMIT');
  await source.query('FLUSH BINARY LOGS');
  await source.query('UPDATE zoo SET j = JSON_SET(COALESCE(j, \'{}\'), \'$.u\', 1), dt = NOW(6) WHERE id < 20');
  await source.query('DELETE FROM zoo WHERE id BETWEEN 40 AND 49');
  await source.query('INSERT INTO marks VALUES (1)');
  // The stop time: a second after mark 1's, and before mark 2's (binlog times are whole seconds).
  const [[now]] = (await source.query('SELECT UNIX_TIMESTAMP() AS s')) as unknown as Array<Array<{ s: number }>>;
  const stopSecond = Number(now!.s) + 2;
  await new Promise((resolve) => setTimeout(resolve, 2200));
  for (;;) {
    const [[at]] = (await source.query('SELECT UNIX_TIMESTAMP() AS s')) as unknown as Array<Array<{ s: number }>>;
    if (Number(at!.s) >= stopSecond) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  stopTime = new Date(stopSecond * 1000).toISOString();
  await source.query('INSERT INTO marks VALUES (2)');
  const [[pos]] = (await source.query('SELECT @@gtid_binlog_pos AS pos')) as unknown as Array<Array<{ pos: string }>>;
  mark2Gtid = pos!.pos;
  await source.query('FLUSH BINARY LOGS');
  await source.query('INSERT INTO marks VALUES (3)');

  // Backed up as an archive would be.
  const url = new URL(server.info.adminUrl);
  const archive = join(scratch.path, 'archive');
  spawnSync('mkdir', ['-p', archive]);
  const fetched = spawnSync(
    'mariadb-binlog',
    ['--read-from-remote-server', '--raw', '--to-last-log', `--host=${url.hostname}`, `--port=${url.port}`, `--user=${decodeURIComponent(url.username)}`,
      `--password=${decodeURIComponent(url.password)}`, `--result-file=${archive}/`, 'mysql-bin.000001'],
    { encoding: 'utf8' },
  );
  expect(fetched.status, fetched.stderr).toBe(0);
  files = readdirSync(archive).filter((f) => /^mysql-bin\.\d+$/.test(f)).sort().map((f) => join(archive, f));
  expect(files.length).toBe(4);
}, 180_000);

afterAll(async () => {
  await source?.end();
  await replica?.end();
  await destroyServers(server);
  await dropDatabases([db, `${db}_t`, `${db}_dt`, `${db}_gtid`, `${db}_bad`, `${db}_mask`]);
  scratch.cleanup();
});

describe('replay', () => {
  it('applies the files to an empty replica so that it equals the source; again, it changes nothing; then `start` continues live', async () => {
    const replication = new Replication({ databases: [db], source: server.info });
    try {
      const args = ['--databases', db, '--state', replication.statePath, ...files];
      const first = await replay(args);
      expect(first.stderr).not.toMatch(/"level":(40|50)/);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^replayed \d+ transactions \(\d+ rows\) of 4 files; the replica is at mysql-bin\.000004:\d+ gtid 0-71-\d+; `start` continues from there\n$/);
      await expectIdentical(db, db, { source: server.info });
      const image = await replicaImage(db);

      const again = await replay(args);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/^replayed 0 transactions \(0 rows\)/);
      expect(await replicaImage(db)).toEqual(image);

      // Live from where the replay ended: what the source writes now, and nothing twice.
      await source.query(`INSERT INTO \`${db}\`.keyless VALUES ('live', 9)`);
      await source.query(`INSERT INTO \`${db}\`.marks VALUES (4)`);
      replication.start();
      await replication.caughtUp();
      await expectIdentical(db, db, { source: server.info });
      await replication.stop();
    } finally {
      await replication.close();
    }
  });

  it('stops before the first transaction written at --stop-datetime', async () => {
    const target = `${db}_dt`;
    const result = await replay(['--databases', db, '--rewrite-db', `${db}=${target}`, '--state', statePath('dt'), '--stop-datetime', stopTime, ...files]);
    expect(result.code, result.stderr).toBe(0);
    expect(await marks(target)).toEqual([1]);
    // Everything before it is there: the replica then continues with mark 2 alone.
    const rest = await replay(['--databases', db, '--rewrite-db', `${db}=${target}`, '--state', statePath('dt'), ...files.slice(2)]);
    expect(rest.code, rest.stderr).toBe(0);
    expect(await marks(target)).toEqual([1, 2, 3]);
  });

  it('stops after the transaction of --stop-gtid', async () => {
    const target = `${db}_gtid`;
    const result = await replay(['--databases', db, '--rewrite-db', `${db}=${target}`, '--state', statePath('gtid'), '--stop-gtid', mark2Gtid, ...files]);
    expect(result.code, result.stderr).toBe(0);
    expect(await marks(target)).toEqual([1, 2]);
    expect(StateStore.open(statePath('gtid')).getPosition()?.gtid).toBe(mark2Gtid);
  });

  it('masks as `start` does, with --source: an empty replica records the masking, and keyless rows are found through masked images', async () => {
    const target = `${db}_mask`;
    const keyFile = join(scratch.path, 'mask.key');
    writeFileSync(keyFile, 'replay-mask-key-7d1e9c3b5a2f4e6d');
    const args = ['--databases', db, '--rewrite-db', `${db}=${target}`, '--state', statePath('mask'), '--source', server.info.userUrl, '--mask', `${db}.keyless.name=hash`, '--mask-key-file', keyFile];
    const result = await replay([...args, ...files]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('replay-mask-key');
    // The file's keyless rows ('dup', 1) twice, one updated to 5, ('other', 2) deleted: names masked alike, never the source's.
    const [rows] = await replica.query(`SELECT name, n FROM \`${target}\`.keyless ORDER BY n`);
    const masked = rows as Array<{ name: string; n: number }>;
    expect(masked.map((r) => Number(r.n))).toEqual([1, 5]);
    expect(masked[0]!.name).toBe(masked[1]!.name);
    expect(masked[0]!.name).not.toBe('dup');
    // Other masking than recorded is refused, as `start` refuses it.
    const other = await replay([...args.slice(0, -4), ...files]);
    expect(other.stderr).toMatch(/^binlog-sync: the replica was seeded with other masking than this run's/m);
    expect(other.code).toBe(1);
  });

  it('replays a truncated last file to its last complete transaction, with a warning', async () => {
    const target = `${db}_t`;
    const cut = join(scratch.path, 'cut');
    spawnSync('mkdir', ['-p', cut]);
    const copies = files.slice(0, 3).map((f) => {
      const to = join(cut, f.split('/').pop()!);
      copyFileSync(f, to);
      return to;
    });
    // The third file cut inside its last event (mark 2's commit).
    truncateSync(copies[2]!, statSync(copies[2]!).size - 60);
    const result = await replay(['--databases', db, '--rewrite-db', `${db}=${target}`, '--state', statePath('t'), ...copies]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/mysql-bin\.000003 ends early .*replayed to byte \d+, the end of its last complete transaction/);
    expect(await marks(target)).toEqual([1]);
  });

  it.each([
    ['not a binlog', (): string[] => [notABinlog(), ...files], /^binlog-sync: .*not-a-binlog is not a binlog file \(it does not start with the binlog magic bytes \\xfebin\)\n$/],
    ['out of order', (): string[] => [files[1]!, files[0]!], /^binlog-sync: the files are out of order: .*mysql-bin\.000001 comes after .*mysql-bin\.000002, which rotates to mysql-bin\.000003; give them in the order the source wrote them\n$/],
    ['a gap', (): string[] => [files[0]!, files[2]!], /^binlog-sync: a gap between the files: .*mysql-bin\.000001 rotates to mysql-bin\.000002, but the next file given is .*mysql-bin\.000003; give mysql-bin\.000002 too\n$/],
  ])('refuses %s with one line and exit 1, touching nothing', async (name, given, message) => {
    const state = statePath(`bad-${name.replace(/\W/g, '')}`);
    const result = await replay(['--databases', db, '--rewrite-db', `${db}=${db}_bad`, '--state', state, ...given()]);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(await replicaImage(`${db}_bad`)).toBeNull();
    const [rows] = await replica.query("SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'binlog_sync'");
    if (Number((rows as Array<{ n: number }>)[0]!.n) > 0) {
      const store = StateStore.open(state);
      const [own] = await replica.query('SELECT COUNT(*) AS n FROM binlog_sync.positions WHERE stream_id = ?', [store.streamId]);
      expect(Number((own as Array<{ n: number }>)[0]!.n)).toBe(0);
    }
  });
});

function notABinlog(): string {
  const path = join(scratch.path, 'not-a-binlog');
  writeFileSync(path, 'SELECT 1;\n');
  return path;
}
