// `binlog-sync start` on recorded MySQL bytes over the real replication
// protocol: test/support/recorded-source.ts serves a binlog file a MySQL 8
// server wrote (test/fixtures/binlogs) as that server's dump thread would,
// and `start` streams it into this harness's MariaDB replica, decoding it on
// its own socket path (zongji, the decoding thread, the apply loop).
// mysql-enum-string-set.000001 (MySQL 8.0.28) holds what its origin's tests
// document (rust_mysql_common src/binlog/mod.rs): CREATE TABLE mysql.t (f1
// CHAR(128), f2 VARCHAR(300), f3 ENUM('var1', 'variant2', 'foo'), f4 SET('one',
// 'two', 'three', 'four'), f5 TEXT), then an insert, an update and a delete of
// one row, GTIDs 93e95066-a2f4-11ec-9b69-9657f0ae95e2:2 to :5, the rows ending
// at 1560, 2659 and 3331 (where `mariadb-binlog` prints their XIDs).
import { join } from 'node:path';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, adminConnection, dropDatabases, eventually, runCli, spawnCli, tempDir, testServers, uniqueName } from '../support/context.js';
import { compressTransaction, startRecordedSource, type RecordedSource, type RecordedSourceOptions } from '../support/recorded-source.js';
import { T_COLUMNS } from '../support/recorded-binlogs.js';

const FILE = 'mysql-enum-string-set.000001';
const PATH = join(REPO_ROOT, 'test', 'fixtures', 'binlogs', FILE);
const INSERT_END = 1560;
const UPDATE_END = 2659;
const FILE_END = 3331;
const UUID = '93e95066-a2f4-11ec-9b69-9657f0ae95e2';
const DIGITS_100 = '0123456789'.repeat(10);
const LONG =
  '0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456780123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456780123456789012345678901234567890123456789';
const INSERTED = [DIGITS_100, LONG, 'var1', '1', 'one,three', String(0b101), '0123456789'];
const UPDATED = ['field1', 'field_2', 'variant2', '2', 'two,four', String(0b1010), LONG];

const scratch = tempDir('binlog-sync-recorded-source-');
const targets: string[] = [];
const sources: RecordedSource[] = [];
let replica: Connection;

beforeAll(async () => {
  replica = await adminConnection('replica');
});

afterAll(async () => {
  await replica?.end();
  for (const s of sources) await s.close();
  await dropDatabases(targets);
  scratch.cleanup();
});

async function rows(target: string): Promise<unknown[]> {
  const [result] = await replica.query({ sql: `SELECT f1, f2, f3, f3 + 0, f4, f4 + 0, f5 FROM ${target}.t`, rowsAsArray: true });
  return result as unknown[];
}

async function serve(options: Omit<RecordedSourceOptions, 'path' | 'name' | 'backing'>): Promise<RecordedSource> {
  const source = await startRecordedSource({ path: PATH, name: FILE, backing: testServers().source.adminUrl, ...options });
  sources.push(source);
  return source;
}

/** A replica database and state file, positioned at the file's start. */
async function newReplica(): Promise<{ target: string; state: string }> {
  const target = uniqueName('rs');
  targets.push(target);
  await replica.query(`CREATE DATABASE ${target}`);
  const state = join(scratch.path, `${target}.sqlite`);
  const set = await runCli(['position', 'set', '--file', FILE, '--pos', '4', '--replica', testServers().replica.userUrl, '--state', state]);
  expect(set.code, set.stderr).toBe(0);
  return { target, state };
}

async function stored(state: string): Promise<{ file: string | null; position: number | null; gtid: string | null }> {
  const shown = await runCli(['position', 'show', '--json', '--state', state]);
  return JSON.parse(shown.stdout) as { file: string | null; position: number | null; gtid: string | null };
}

async function storedPosition(state: string): Promise<number | null> {
  return (await stored(state)).position;
}

/** `start` on `source` until the stored position is `until` (then a second more, when asked), stopped by SIGTERM; its exit and stderr. */
async function startUntil(source: RecordedSource, target: string, state: string, until: number, linger = 0): Promise<{ code: number | null; stderr: string }> {
  const child = spawnCli(['start', '--source', source.url(), '--replica', testServers().replica.userUrl, '--databases', 'mysql', '--rewrite-db', `mysql=${target}`, '--state', state, '--log-format', 'json']);
  try {
    await eventually(() => storedPosition(state), (p) => p === until || child.exitCode !== null, { timeoutMs: 30_000, intervalMs: 300 });
    await new Promise((r) => setTimeout(r, linger));
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('close', () => resolve())));
  }
  return child.output();
}

describe('start on a recorded MySQL 8.0.28 binlog served over the replication protocol', () => {
  it('applies its DDL and rows as documented, resuming by file and offset where a source left off', async () => {
    const { target, state } = await newReplica();
    // The source has written up to the insert: the CREATE TABLE (under collation 255, which MariaDB 10.11 lacks: a warning) and the row.
    let run = await startUntil(await serve({ upTo: INSERT_END }), target, state, INSERT_END);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('the replica does not know the character set or collation the source ran this CREATE TABLE under');
    expect(await rows(target)).toEqual([INSERTED]);
    // Then the update: a new connection asks for the stored position.
    const later = await serve({ upTo: UPDATE_END });
    run = await startUntil(later, target, state, UPDATE_END);
    expect(run.code, run.stderr).toBe(0);
    expect(later.dumps).toEqual([{ command: 'dump', flags: 0, file: FILE, position: INSERT_END }]);
    expect(await rows(target)).toEqual([UPDATED]);
    // And the delete.
    run = await startUntil(await serve({}), target, state, FILE_END);
    expect(run.code, run.stderr).toBe(0);
    expect(await rows(target)).toEqual([]);
  });

  it('opens a compressed transaction (TRANSACTION_PAYLOAD, zstd) on the live stream: the insert as documented', async () => {
    const { target, state } = await newReplica();
    // The insert's transaction as binlog_transaction_compression=ON writes it: its events from BEGIN to XID in one zstd payload.
    const source = await serve({
      upTo: INSERT_END,
      variables: { binlog_transaction_compression: 'ON' },
      transform: (events) => {
        const xid = events.findIndex((e) => e[4] === 16 && e.readUInt32LE(13) === INSERT_END);
        const begin = events.findLastIndex((e, i) => i < xid && e[4] === 33) + 1;
        return compressTransaction(events, begin, xid);
      },
    });
    const run = await startUntil(source, target, state, INSERT_END);
    expect(run.code, run.stderr).toBe(0);
    expect(await rows(target)).toEqual([INSERTED]);
  });

  it('takes heartbeats v2 as heartbeats: an idle stream stays alive past the silence limit, caught up', async () => {
    const { target, state } = await newReplica();
    const source = await serve({ upTo: INSERT_END, heartbeatV2: true });
    // (binlog-sync takes a stream silent for 5 heartbeat periods, 5 s, as broken: 7 s of heartbeats v2 alone.)
    const run = await startUntil(source, target, state, INSERT_END, 7000);
    expect(run.code, run.stderr).toBe(0);
    expect(source.heartbeats.v2).toBeGreaterThanOrEqual(6);
    expect(source.heartbeats.v1).toBe(0);
    expect(run.stderr).not.toMatch(/no data or heartbeat from the source|reconnect/);
    expect(source.dumps).toHaveLength(1);
    expect(await rows(target)).toEqual([INSERTED]);
  });

  it('resumes by a MySQL GTID set (position set --gtid): asked of the source by GTID, and kept per transaction', async () => {
    const { target, state } = await newReplica();
    let run = await startUntil(await serve({ upTo: INSERT_END }), target, state, INSERT_END);
    expect(run.code, run.stderr).toBe(0);
    // The replica has :1 to :3 (the ALTER USER, the CREATE TABLE and the insert): from now on, by GTID.
    const set = await runCli(['position', 'set', '--gtid', `${UUID}:1-3`, '--replica', testServers().replica.userUrl, '--state', state]);
    expect(set.code, set.stderr).toBe(0);
    const source = await serve({});
    run = await startUntil(source, target, state, FILE_END);
    expect(run.code, run.stderr).toBe(0);
    // COM_BINLOG_DUMP_GTID with the set (no file: the source finds it), which leaves :1 to :3 out.
    expect(source.dumps).toEqual([{ command: 'dump-gtid', flags: 0, file: '', position: 4, gtids: `${UUID}:1,${UUID}:2,${UUID}:3` }]);
    expect(await rows(target)).toEqual([]);
    expect(await stored(state)).toMatchObject({ file: FILE, position: FILE_END, gtid: `${UUID}:1-5` });
  });

  it("applies json.binlog.000001's partial JSON updates (MySQL 8.0.22, PARTIAL_UPDATE_ROWS) live: each document as MySQL made it", async () => {
    // Its CREATE TABLE (at 570, ending at 845) has generated columns on MySQL's `->>`, which MariaDB cannot parse:
    // the table made by hand, plain columns taking the logged values, and the position set past it.
    const json = 'json.binlog.000001';
    const target = uniqueName('rsj');
    targets.push(target);
    await replica.query(`CREATE DATABASE ${target}`);
    await replica.query(`CREATE TABLE ${target}.t (id INT PRIMARY KEY AUTO_INCREMENT, json_col JSON, name VARCHAR(100), age INT)`);
    const state = join(scratch.path, `${target}.sqlite`);
    const set = await runCli(['position', 'set', '--file', json, '--pos', '845', '--replica', testServers().replica.userUrl, '--state', state]);
    expect(set.code, set.stderr).toBe(0);
    // (Its table maps carry no column names: zongji asks the source, which answers with the CREATE TABLE's columns.)
    const source = await startRecordedSource({
      path: join(REPO_ROOT, 'test', 'fixtures', 'binlogs', json),
      name: json,
      backing: testServers().source.adminUrl,
      variables: { binlog_row_value_options: 'PARTIAL_JSON', binlog_row_image: 'MINIMAL' },
      tableColumns: (database, table) => (database === 'mysql' && table === 't' ? T_COLUMNS : undefined),
    });
    sources.push(source);
    const run = await startUntil(source, target, state, 4011);
    expect(run.code, run.stderr).toBe(0);
    const [result] = await replica.query({
      sql: `SELECT id, CAST(json_col AS CHAR), name, age, CAST(JSON_EXTRACT(json_col, '$.age') AS CHAR) FROM ${target}.t ORDER BY id`,
      rowsAsArray: true,
    });
    const after = result as Array<[number, string, string, number, string]>;
    expect(after.map((r) => r[0])).toEqual([1, 2, 3, 4, 5, 6]);
    // The age in each document is the one MySQL computed from its new document and logged beside the change.
    for (const [, , , age, documentAge] of after) expect(documentAge).toBe(String(age));
    // MySQL's own text of the first document (its full update left 25; the partial one made it 26).
    expect(after[0]![1]).toBe('{"age": 26, "data": "xxxxxxxxxx", "name": "Joe"}');
  });
});
