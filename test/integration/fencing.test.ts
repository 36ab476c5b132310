// Fencing: a `start` that stalls past its lock (SIGSTOP here; a suspended VM
// or a debugger in life) and wakes up after another runner took over must
// never apply beside it. The state file gives each runner an epoch, and the
// replica's checkpoint row accepts commits of the newest epoch only, so a
// superseded runner's transactions roll back whether or not it has noticed.
// Both runners use different server ids, so the source does not end either
// of them; a table without a primary key would show any double apply.
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { adminConnection, backgroundLoad, dropDatabases, eventually, runCli, spawnCli, tempDir, type CliResult } from '../support/context.js';
import { expectIdentical } from '../support/compare.js';
import { Replication, sourcePosition } from '../support/replication.js';
import { StateStore } from '../../src/state/state-store.js';
import { compareFilePositions } from '../../src/position.js';

/** The state file's staleness limit (DEFAULT_STALE_AFTER_MS) and a margin. */
const FREEZE_MS = 16_500;

const dbs: string[] = [];
let source: Connection;

beforeAll(async () => {
  source = await adminConnection('source');
});

afterAll(async () => {
  await source?.end();
  await dropDatabases(dbs);
});

async function createSchema(db: string): Promise<void> {
  dbs.push(db);
  await source.query(`CREATE DATABASE \`${db}\``);
  await source.query(`CREATE TABLE \`${db}\`.keyed (id INT PRIMARY KEY, v INT NOT NULL)`);
  await source.query(`CREATE TABLE \`${db}\`.keyless (k INT NOT NULL, v VARCHAR(40) NOT NULL)`);
}

/**
 * Writes small transactions until stopped: inserts into both tables, and
 * updates and deletes of rows of the keyless table (located by their whole
 * before image, so a row applied twice would show).
 */
function writeLoad(db: string): { stop: () => Promise<number> } {
  return backgroundLoad(
    () => adminConnection('source'),
    async (conn, i) => {
      const k = i % 40;
      await conn.query(
        `START TRANSACTION;
         INSERT INTO \`${db}\`.keyed VALUES (${i}, ${i});
         INSERT INTO \`${db}\`.keyless VALUES (${k}, 'row ${i}');
         ${i % 3 === 0 ? `UPDATE \`${db}\`.keyless SET v = CONCAT(LEFT(v, 30), '+') WHERE k = ${k} LIMIT 1;` : ''}
         ${i % 4 === 0 ? `DELETE FROM \`${db}\`.keyless WHERE k = ${(i + 11) % 40} LIMIT 1;` : ''}
         COMMIT`,
      );
      await new Promise((r) => setTimeout(r, 4));
    },
  );
}

async function appliedRows(db: string): Promise<number> {
  const replica = await adminConnection('replica');
  try {
    const [rows] = await replica.query(`SELECT COUNT(*) AS n FROM \`${db}\`.keyed`);
    return Number((rows as Array<{ n: number | string }>)[0]!.n);
  } catch {
    return 0;
  } finally {
    await replica.end();
  }
}

async function exitOf(child: ReturnType<typeof spawnCli>, timeoutMs: number): Promise<CliResult> {
  if (child.exitCode === null && child.signalCode === null) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`did not exit within ${timeoutMs} ms:\n${child.output().stderr.slice(-3000)}`)), timeoutMs);
      child.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  return child.output();
}

/** Log lines that mean two runners applied the same changes. */
const CONFLICT = /Duplicate entry|is not on the replica|already exists/;

describe('a runner that lost its lock', () => {
  it('stops when thawed after another took over, and the replica ends identical', async () => {
    const db = `fence_thaw_${Date.now() % 100000}`;
    const first = new Replication({ databases: [db], args: ['--server-id', '3101'] });
    await first.setCurrentPosition();
    first.start();
    await createSchema(db);
    const pid = first.pid!;
    const load = writeLoad(db);
    let second: ReturnType<typeof spawnCli> | undefined;
    try {
      await eventually(() => appliedRows(db), (n) => n >= 50);
      process.kill(pid, 'SIGSTOP');
      await new Promise((r) => setTimeout(r, FREEZE_MS));

      // The first one's heartbeat is stale: a second `start` takes the state file over.
      second = spawnCli(['start', ...first.connectionArgs, '--databases', db, '--server-id', '3102', '--log-level', 'debug']);
      const frozenAt = await appliedRows(db);
      await eventually(() => appliedRows(db), (n) => n >= frozenAt + 50);

      process.kill(pid, 'SIGCONT');
      const thawed = await first.exited(20_000);
      expect(thawed.code).toBe(1);
      expect(thawed.stderr).toMatch(/binlog-sync: another `binlog-sync start` took over .* while this one was stalled; this one stopped without committing anything more\n$/);
      expect(thawed.stderr).not.toMatch(CONFLICT);

      // The second goes on alone.
      const afterThaw = await appliedRows(db);
      await eventually(() => appliedRows(db), (n) => n >= afterThaw + 50);
    } finally {
      await load.stop();
      if (first.output?.code === null) process.kill(pid, 'SIGCONT');
    }
    await first.caughtUp();
    expect(second.exitCode).toBeNull();
    await expectIdentical(db);

    const status = await runCli(['status', '--json', '--state', first.statePath]);
    const report = JSON.parse(status.stdout) as { running: boolean; lastError: unknown };
    // The thawed runner wrote nothing into the file: no error, the lock still the second's.
    expect(report).toMatchObject({ running: true, lastError: null });
    const state = StateStore.open(first.statePath, { readonly: true });
    expect(state.activeRunner()?.pid).toBe(second.pid);
    state.close();

    second.kill('SIGTERM');
    const stopped = await exitOf(second, 15_000);
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).not.toMatch(CONFLICT);
    first.dispose();
  });

  it('is stopped by the replica itself when it cannot know (a second runner on a copy of the state file)', async () => {
    const db = `fence_copy_${Date.now() % 100000}`;
    const first = new Replication({ databases: [db], args: ['--server-id', '3111'] });
    await first.setCurrentPosition();
    // A copy taken before the first runner starts: the second runner never sees the first's lock or heartbeats.
    const copy = tempDir('binlog-sync-copy-');
    const copied = join(copy.path, 'state.sqlite');
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(first.statePath + suffix)) copyFileSync(first.statePath + suffix, copied + suffix);
    first.start();
    await createSchema(db);
    const load = writeLoad(db);
    let second: ReturnType<typeof spawnCli> | undefined;
    try {
      await eventually(() => appliedRows(db), (n) => n >= 50);
      const args = first.connectionArgs.map((a) => (a === first.statePath ? copied : a));
      second = spawnCli(['start', ...args, '--databases', db, '--server-id', '3112', '--log-level', 'debug']);

      // The second claims the stream on the replica with a newer epoch: the first may commit nothing more.
      const superseded = await first.exited(30_000);
      expect(superseded.code).toBe(1);
      expect(superseded.stderr).toMatch(/binlog-sync: another binlog-sync process took over this replication stream on the replica .*; this one stopped without committing anything more\n$/);
      expect(superseded.stderr).not.toMatch(CONFLICT);
      const after = await appliedRows(db);
      await eventually(() => appliedRows(db), (n) => n >= after + 50);
    } finally {
      await load.stop();
    }
    // Caught up: the copy's position reaches the source's end.
    const target = await sourcePosition(source);
    await eventually(
      async () => {
        const state = StateStore.open(copied, { readonly: true });
        try {
          return state.getPosition();
        } finally {
          state.close();
        }
      },
      (p) => p !== null && (compareFilePositions(p, target) ?? -1) >= 0,
      { timeoutMs: 60_000 },
    );
    expect(second.exitCode).toBeNull();
    await expectIdentical(db);

    second.kill('SIGTERM');
    const stopped = await exitOf(second, 15_000);
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).not.toMatch(CONFLICT);
    first.dispose();
    copy.cleanup();
  });
});
