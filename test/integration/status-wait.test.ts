// `status` and `wait` as operators and test suites use them: exit codes,
// JSON, lag that tells the truth while the applier is blocked, and a
// freshness barrier that returns only once the last row is on the replica.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql, { type Connection } from 'mysql2/promise';
import { EXACT_VALUES, runCli, uniqueName } from '../support/context.js';
import { Replication } from '../support/replication.js';
import { type ManagedServer, destroyServers, startServerPair } from '../support/servers.js';
import { waitForReplica } from '../../src/index.js';

const db = uniqueName('status');
let sourceServer: ManagedServer;
let replicaServer: ManagedServer;
let replication: Replication;
let source: Connection;

const statusArgs = (): string[] => ['status', '--json', '--source', sourceServer.info.userUrl, '--state', replication.statePath];
const waitArgs = (timeout: number): string[] => ['wait', '--timeout', String(timeout), '--source', sourceServer.info.userUrl, '--state', replication.statePath];

async function status(): Promise<{ code: number | null; report: Record<string, unknown> }> {
  const result = await runCli(statusArgs());
  return { code: result.code, report: JSON.parse(result.stdout) as Record<string, unknown> };
}

async function replicaQuery(sql: string): Promise<unknown[]> {
  const conn = await mysql.createConnection({ uri: replicaServer.info.adminUrl, ...EXACT_VALUES });
  try {
    return (await conn.query(sql))[0] as unknown[];
  } finally {
    await conn.end();
  }
}

beforeAll(async () => {
  [sourceServer, replicaServer] = await startServerPair([61, 62]);
  replication = new Replication({ databases: [db], source: sourceServer.info, replica: replicaServer.info });
  await replication.setCurrentPosition();
  replication.start();
  source = await mysql.createConnection({ uri: sourceServer.info.adminUrl, ...EXACT_VALUES });
  await source.query(`CREATE DATABASE \`${db}\``);
  await source.query(`CREATE TABLE \`${db}\`.waits (id INT PRIMARY KEY, ride INT, minutes INT)`);
  await replication.caughtUp();
});

afterAll(async () => {
  await replication?.close();
  await source?.end();
  await destroyServers(sourceServer, replicaServer);
});

describe('status', () => {
  it('is HEALTHY (exit 0) in steady state, with the source and applied positions agreeing', async () => {
    await source.query(`INSERT INTO \`${db}\`.waits VALUES (1, 1, 10)`);
    await replication.caughtUp();
    await new Promise((r) => setTimeout(r, 1200)); // one liveness period
    const { code, report } = await status();
    expect(code).toBe(0);
    expect(report).toMatchObject({ state: 'HEALTHY', running: true, lagSeconds: 0, lagThresholdSeconds: 5, lastError: null });
    const applied = report.applied as Record<string, unknown>;
    const src = report.source as Record<string, unknown>;
    expect({ file: applied.file, position: applied.position, gtid: applied.gtid }).toEqual({ file: src.file, position: src.position, gtid: src.gtid });
    expect(new Date(String(applied.appliedAt)).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const text = await runCli(statusArgs().filter((a) => a !== '--json'));
    expect(text.stdout).toMatch(/^HEALTHY {2}lag 0\.0 s \(threshold 5 s\)\n/);
  });

  it('is LAGGING (exit 1) with a lag of at least 5 s while the applier is blocked by a lock, then HEALTHY again', async () => {
    const blocker = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
    await blocker.query('START TRANSACTION');
    await blocker.query(`SELECT * FROM \`${db}\`.waits WHERE id = 1 FOR UPDATE`);
    await source.query(`UPDATE \`${db}\`.waits SET minutes = 11 WHERE id = 1`);
    await new Promise((r) => setTimeout(r, 8000));
    const lagging = await status();
    await blocker.query('ROLLBACK');
    await blocker.end();
    expect(lagging.code).toBe(1);
    expect(lagging.report.state).toBe('LAGGING');
    expect(lagging.report.lagSeconds as number).toBeGreaterThanOrEqual(5);

    await replication.caughtUp();
    await new Promise((r) => setTimeout(r, 1200));
    const healthy = await status();
    expect(healthy.report).toMatchObject({ state: 'HEALTHY', lagSeconds: 0 });
    expect(healthy.code).toBe(0);
  });
});

describe('wait', () => {
  it('returns after a 30,000-row transaction only once the last row is on the replica', async () => {
    await source.query('START TRANSACTION');
    for (let start = 100; start < 30_100; start += 5000) {
      const values = Array.from({ length: 5000 }, (_, i) => `(${start + i}, ${i % 50}, ${i % 90})`).join(',');
      await source.query(`INSERT INTO \`${db}\`.waits VALUES ${values}`);
    }
    await source.query('COMMIT');
    const result = await runCli(waitArgs(60));
    const [row] = (await replicaQuery(`SELECT COUNT(*) AS n FROM \`${db}\`.waits WHERE id >= 100`)) as Array<{ n: string | number }>;
    expect(result.code).toBe(0);
    expect(Number(row!.n)).toBe(30_000);
    expect(result.stdout).toMatch(/^caught up with mysql-bin\.\d+:\d+ gtid \S+\n$/);
  });

  it('is exported as waitForReplica() for JavaScript test setups', async () => {
    await source.query(`UPDATE \`${db}\`.waits SET minutes = 99 WHERE id = 5000`);
    const target = await waitForReplica({ source: sourceServer.info.userUrl, state: replication.statePath, timeoutMs: 30_000 });
    expect(target.file).toMatch(/^mysql-bin\./);
    expect(await replicaQuery(`SELECT minutes FROM \`${db}\`.waits WHERE id = 5000`)).toEqual([{ minutes: 99 }]);
  });

  it('returns at once when idle after a binlog rotation', async () => {
    await source.query('FLUSH BINARY LOGS');
    await new Promise((r) => setTimeout(r, 1500)); // a heartbeat shows the stream the new file
    const result = await runCli(waitArgs(10));
    expect(result.code).toBe(0);
  });
});

describe('after SIGTERM', () => {
  it('status is STOPPED (exit 2) with running false, and wait --timeout 3 fails in about 3 s', async () => {
    const stopped = await replication.stop();
    expect(stopped.code).toBe(0);
    const { code, report } = await status();
    expect(code).toBe(2);
    expect(report).toMatchObject({ state: 'STOPPED', running: false, lagSeconds: null });
    await source.query(`INSERT INTO \`${db}\`.waits VALUES (99999, 1, 1)`);
    const started = Date.now();
    const result = await runCli(waitArgs(3));
    const took = (Date.now() - started) / 1000;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/timed out waiting for the replica to apply .*: binlog-sync start is not running on this state file\n$/);
    expect(took).toBeGreaterThanOrEqual(2.9);
  });

  it('position set --current skips ahead past the pending changes', async () => {
    const set = await runCli(['position', 'set', '--current', ...replication.connectionArgs]);
    expect(set.code).toBe(0);
    replication.start();
    await replication.caughtUp();
    expect(await replicaQuery(`SELECT id FROM \`${db}\`.waits WHERE id = 99999`)).toEqual([]);
    const result = await runCli(waitArgs(10));
    expect(result.code).toBe(0);
  });
});
