// The bench's `replay` scenario (issue #24): a bulk backlog (a `rows`-row
// insert, an update of every row and a delete of half) recorded in a binlog
// file of its own on the bench's source, fetched as `mariadb-binlog --raw`
// backs binlogs up, then applied to two empty replicas of its own, each
// alone and timed: by `mariadb-binlog FILE | mariadb` (which filters nothing
// and keeps no position) and by `binlog-sync replay FILE`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { destroyServers, startServer, type ManagedServer } from '../test/support/servers.js';

export interface ReplayScenarioResult {
  scenario: string;
  /** `mariadb-binlog FILE | mariadb`, seconds. */
  nativeSeconds: number;
  /** `binlog-sync replay FILE`, seconds. */
  oursSeconds: number;
  ratio: number;
  rows: number;
  transactions: number;
  /** The two copies hold what the source holds. */
  identical: boolean;
}

const DATABASE = 'replaybench';

/**
 * Runs the scenario on `source` (a bench server with log_bin). `cli` is the
 * built binlog-sync; `identical` compares databases of servers with the source.
 */
export async function replayScenario(
  source: ManagedServer,
  rows: number,
  cli: string,
  identical: (source: ManagedServer, replicas: ManagedServer[], databases: string[]) => Promise<boolean>,
): Promise<ReplayScenarioResult> {
  const work = mkdtempSync(join(tmpdir(), 'binlog-sync-bench-replay-'));
  const [viaClient, viaReplay] = await Promise.all([startServer({ role: 'replica', serverId: 11 }), startServer({ role: 'replica', serverId: 12 })]);
  try {
    const file = await record(source, rows, work);
    const client = admin(viaClient);
    const started = performance.now();
    await pipe(['mariadb-binlog', file], ['mariadb', `--host=${client.host}`, `--port=${client.port}`, `--user=${client.user}`, `--password=${client.password}`]);
    const nativeSeconds = (performance.now() - started) / 1000;

    const begun = performance.now();
    const replay = spawnSync(
      process.execPath,
      [cli, 'replay', '--replica', viaReplay.info.userUrl, '--databases', DATABASE, '--state', join(work, 'state.sqlite'), '--log-level', 'warn', file],
      { encoding: 'utf8' },
    );
    const oursSeconds = (performance.now() - begun) / 1000;
    if (replay.status !== 0) throw new Error(`binlog-sync replay failed: ${replay.stderr}`);
    return {
      scenario: `replay of ${rows.toLocaleString('en')} rows`,
      nativeSeconds,
      oursSeconds,
      ratio: nativeSeconds / oursSeconds,
      rows: rows + rows + Math.floor(rows / 2),
      transactions: 3,
      identical: await identical(source, [viaClient, viaReplay], [DATABASE]),
    };
  } finally {
    await destroyServers(viaClient, viaReplay);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Writes the backlog into a binlog file of its own and fetches it; returns its path. */
async function record(source: ManagedServer, rows: number, work: string): Promise<string> {
  const conn = await mysql.createConnection({ uri: source.info.adminUrl, multipleStatements: true });
  try {
    await conn.query('FLUSH BINARY LOGS');
    const [status] = await conn.query('SHOW MASTER STATUS');
    const file = (status as Array<{ File: string }>)[0]!.File;
    await conn.query(`CREATE DATABASE ${DATABASE}; CREATE TABLE ${DATABASE}.items (id INT PRIMARY KEY, a INT, b VARCHAR(40), c DOUBLE)`);
    await conn.query(`INSERT INTO ${DATABASE}.items SELECT seq, seq % 1000, CONCAT('item ', seq), seq / 3 FROM mysql.seq_1_to_${rows}`);
    await conn.query(`UPDATE ${DATABASE}.items SET a = a + 1, b = CONCAT(b, "!")`);
    await conn.query(`DELETE FROM ${DATABASE}.items WHERE id <= ${Math.floor(rows / 2)}`);
    await conn.query('FLUSH BINARY LOGS');
    const dir = join(work, 'binlogs');
    mkdirSync(dir);
    const c = admin(source);
    const fetched = spawnSync(
      'mariadb-binlog',
      ['--read-from-remote-server', '--raw', `--host=${c.host}`, `--port=${c.port}`, `--user=${c.user}`, `--password=${c.password}`, `--result-file=${dir}/`, file],
      { encoding: 'utf8' },
    );
    if (fetched.status !== 0) throw new Error(`mariadb-binlog --raw failed: ${fetched.stderr}`);
    return join(dir, file);
  } finally {
    await conn.end();
  }
}

function admin(server: ManagedServer): { host: string; port: string; user: string; password: string } {
  const url = new URL(server.info.adminUrl);
  return { host: url.hostname, port: url.port, user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}

/** `a | b`, resolving once both exit 0. */
async function pipe(producer: string[], consumer: string[]): Promise<void> {
  const a = spawn(producer[0]!, producer.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const b = spawn(consumer[0]!, consumer.slice(1), { stdio: ['pipe', 'ignore', 'inherit'] });
  a.stdout.pipe(b.stdin);
  const exit = (p: ReturnType<typeof spawn>, name: string): Promise<void> =>
    new Promise((resolve, reject) => p.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${name} exited with ${code}`)))));
  await Promise.all([exit(a, producer[0]!), exit(b, consumer[0]!)]);
}
