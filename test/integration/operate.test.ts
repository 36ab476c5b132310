// `check` as the preflight that replaces the manual guide's checklist, and
// the Prometheus endpoint of a running `start`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql, { type Connection } from 'mysql2/promise';
import { EXACT_VALUES, runCli, uniqueName } from '../support/context.js';
import { Replication } from '../support/replication.js';
import { freePort } from '../../src/servers/local-server.js';
import { type ManagedServer, destroyServers, startServerPair } from '../support/servers.js';

const db = uniqueName('operate');
let sourceServer: ManagedServer;
let replicaServer: ManagedServer;
let replication: Replication;
let source: Connection;
let metricsPort: number;

interface CheckItem {
  name: string;
  status: string;
  detail: string;
  fix?: string;
}

async function check(replicaUrl = replicaServer.info.userUrl): Promise<{ code: number | null; ok: boolean; items: CheckItem[] }> {
  const result = await runCli(['check', '--json', '--source', sourceServer.info.userUrl, '--replica', replicaUrl, '--state', replication.statePath]);
  const parsed = JSON.parse(result.stdout) as { ok: boolean; items: CheckItem[] };
  return { code: result.code, ...parsed };
}

const item = (items: CheckItem[], name: string): CheckItem | undefined => items.find((i) => i.name === name);

beforeAll(async () => {
  [sourceServer, replicaServer] = await startServerPair([71, 72]);
  metricsPort = await freePort();
  replication = new Replication({
    databases: [db],
    source: sourceServer.info,
    replica: replicaServer.info,
    args: ['--metrics-port', String(metricsPort), '--lag-threshold', '2'],
  });
  await replication.setCurrentPosition();
  replication.start();
  source = await mysql.createConnection({ uri: sourceServer.info.adminUrl, ...EXACT_VALUES });
  await source.query(`CREATE DATABASE \`${db}\``);
  await source.query(`CREATE TABLE \`${db}\`.rides (id INT PRIMARY KEY, name VARCHAR(40))`);
  await source.query(`INSERT INTO \`${db}\`.rides VALUES (1, 'a'), (2, 'b')`);
  await source.query(`UPDATE \`${db}\`.rides SET name = 'c' WHERE id = 2`);
  await replication.caughtUp();
});

afterAll(async () => {
  await replication?.close();
  await source?.end();
  await destroyServers(sourceServer, replicaServer);
});

describe('check', () => {
  it('passes on servers set up as the docs say, with every item ok or warn', async () => {
    const { code, ok, items } = await check();
    expect(code).toBe(0);
    expect(ok).toBe(true);
    for (const name of ['source reachable', 'log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata', 'server_id', 'gtid', 'REPLICATION SLAVE', 'REPLICATION CLIENT', 'SELECT', 'least privilege', 'stored position', 'replica reachable', 'read_only', 'local_infile', 'applier can write']) {
      expect(item(items, name)?.status, name).toBe('ok');
    }
    expect(item(items, 'binlog retention')?.status).toBe('warn'); // test servers keep binlogs forever
  });

  it('fails naming binlog_format, with the fix, when the source writes STATEMENT', async () => {
    await source.query("SET GLOBAL binlog_format = 'STATEMENT'");
    try {
      const { code, ok, items } = await check();
      expect(code).toBe(1);
      expect(ok).toBe(false);
      expect(item(items, 'binlog_format')).toEqual({
        name: 'binlog_format',
        status: 'fail',
        detail: 'STATEMENT; binlog-sync needs ROW',
        fix: "SET GLOBAL binlog_format = 'ROW'; and in my.cnf [mysqld]: binlog_format = ROW",
      });
      const text = await runCli(['check', '--source', sourceServer.info.userUrl, '--replica', replicaServer.info.userUrl]);
      expect(text.stdout).toMatch(/^fail {2}binlog_format +STATEMENT; binlog-sync needs ROW\n +fix: SET GLOBAL binlog_format = 'ROW'/m);
    } finally {
      await source.query("SET GLOBAL binlog_format = 'ROW'");
    }
  });

  it('names the privilege when the applier user cannot write to the read-only replica', async () => {
    const admin = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
    await admin.query("CREATE USER 'weak'@'%' IDENTIFIED BY 'weak-Pw-1'");
    await admin.query("GRANT ALL PRIVILEGES ON binlog_sync.* TO 'weak'@'%'");
    await admin.end();
    const { code, items } = await check(`mysql://weak:weak-Pw-1@${replicaServer.info.host}:${replicaServer.info.port}`);
    expect(code).toBe(1);
    expect(item(items, 'applier can write')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('lacks the READ_ONLY ADMIN privilege'),
      fix: "GRANT READ_ONLY ADMIN ON *.* TO 'weak'@'%';",
    });
  });

  it('warns when the replication user holds far more than it needs', async () => {
    const { items } = await check();
    expect(item(items, 'least privilege')?.status).toBe('ok');
    const result = await runCli(['check', '--json', '--source', sourceServer.info.adminUrl, '--replica', replicaServer.info.userUrl]);
    const parsed = JSON.parse(result.stdout) as { items: CheckItem[] };
    expect(item(parsed.items, 'least privilege')).toMatchObject({ status: 'warn', detail: expect.stringContaining('ALL PRIVILEGES') });
  });
});

describe('metrics', () => {
  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}${path}`);
    return { status: res.status, body: await res.text() };
  };

  it('serves /metrics as Prometheus text with lag, rows by table and kind, connection state and position', async () => {
    const { status, body } = await get('/metrics');
    expect(status).toBe(200);
    for (const line of body.split('\n').filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/);
    }
    expect(body).toMatch(/^binlog_sync_lag_seconds 0$/m);
    expect(body).toMatch(/^binlog_sync_source_connected 1$/m);
    expect(body).toContain(`binlog_sync_rows_applied_total{table="${db}.rides",kind="insert"} 2`);
    expect(body).toContain(`binlog_sync_rows_applied_total{table="${db}.rides",kind="update"} 1`);
    expect(body).toMatch(/^binlog_sync_transactions_applied_total [1-9]\d*$/m);
    expect(body).toMatch(/^binlog_sync_transaction_apply_seconds_count [1-9]\d*$/m);
    expect(body).toMatch(/^binlog_sync_applied_binlog_position \d+$/m);
    expect(body).toMatch(/^binlog_sync_reconnects_total 0$/m);
  });

  it('answers /healthz 200 when HEALTHY and 503 while LAGGING', async () => {
    expect((await get('/healthz')).status).toBe(200);
    const blocker = await mysql.createConnection({ uri: replicaServer.info.adminUrl });
    await blocker.query('START TRANSACTION');
    await blocker.query(`SELECT * FROM \`${db}\`.rides WHERE id = 1 FOR UPDATE`);
    await source.query(`UPDATE \`${db}\`.rides SET name = 'blocked' WHERE id = 1`);
    await new Promise((r) => setTimeout(r, 3500));
    const lagging = await get('/healthz');
    await blocker.query('ROLLBACK');
    await blocker.end();
    expect(lagging.status).toBe(503);
    expect(JSON.parse(lagging.body)).toMatchObject({ state: 'LAGGING', sourceConnected: true });
    await replication.caughtUp();
    expect((await get('/healthz')).status).toBe(200);
  });
});
