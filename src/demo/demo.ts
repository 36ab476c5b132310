// `binlog-sync demo`: the whole product on throwaway servers. A source and a
// read-only replica start from the machine's server binaries, a sample
// themepark_tracker is created, snapshotted and replicated while a small
// write load runs, and the status shows live until the time is up. Then it
// verifies the copy and removes everything it made.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Endpoint } from '../config/connection-url.js';
import { connect, queryOne, type Connection } from '../db/connect.js';
import { ServerConfigError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { runReplicator } from '../replicator/replicator.js';
import { runSnapshot } from '../snapshot/snapshot.js';
import { StreamHealth } from '../health/stream-health.js';
import { serveRun, type ServedRun } from '../health/serve-run.js';
import { describeEndpoint } from '../config/connection-url.js';
import { decideState, type HealthState } from '../health/status.js';
import { findLocalBinaries, LocalServer } from '../servers/local-server.js';
import { DEMO_IMAGE, DockerServer, dockerAvailable } from '../servers/docker-server.js';
import { StateStore } from '../state/state-store.js';
import { runVerify } from '../verify/verify.js';

export const DEMO_DATABASE = 'themepark_tracker';

export interface DemoProgress {
  state: HealthState;
  lagSeconds: number | null;
  transactions: number;
  rows: number;
  waitTimesOnSource: number;
  waitTimesOnReplica: number;
}

export interface DemoOptions {
  /** How long the live part runs. */
  seconds: number;
  logger: Logger;
  signal: AbortSignal;
  /** Called about once a second with what the demo shows. */
  onProgress: (p: DemoProgress) => void;
  /** Called with each step as it happens (for the person watching). */
  onStep: (text: string) => void;
  /** Where the status page is served while the demo runs (127.0.0.1; port 0 picks a free one). */
  page?: { host: string; port: number };
}

export interface DemoResult {
  final: DemoProgress;
  identical: boolean;
  tables: number;
}

const PASSWORD = 'demo-only-not-secret';

const SCHEMA = [
  `CREATE DATABASE ${DEMO_DATABASE} CHARACTER SET utf8mb4`,
  `CREATE TABLE ${DEMO_DATABASE}.parks (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(80) NOT NULL, slug VARCHAR(80) NOT NULL UNIQUE,
     themeparks_wiki_id VARCHAR(40), timezone VARCHAR(40) NOT NULL)`,
  `CREATE TABLE ${DEMO_DATABASE}.rides (id INT AUTO_INCREMENT PRIMARY KEY, park_id INT NOT NULL, name VARCHAR(80) NOT NULL,
     min_height_cm SMALLINT UNSIGNED, status ENUM('OPERATING','DOWN','CLOSED','REFURBISHMENT') NOT NULL DEFAULT 'OPERATING',
     FOREIGN KEY (park_id) REFERENCES parks (id) ON DELETE CASCADE)`,
  `CREATE TABLE ${DEMO_DATABASE}.wait_times (id BIGINT AUTO_INCREMENT PRIMARY KEY, ride_id INT NOT NULL, wait_minutes SMALLINT,
     recorded_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), KEY (ride_id, recorded_at),
     FOREIGN KEY (ride_id) REFERENCES rides (id) ON DELETE CASCADE)`,
];

const PARKS: Array<[string, string]> = [
  ['Efteling', 'Europe/Amsterdam'],
  ['Europa-Park', 'Europe/Berlin'],
  ['Magic Kingdom', 'America/New_York'],
  ['Disneyland', 'America/Los_Angeles'],
  ['Tokyo DisneySea', 'Asia/Tokyo'],
  ['Phantasialand', 'Europe/Berlin'],
  ['Cedar Point', 'America/New_York'],
  ['PortAventura', 'Europe/Madrid'],
];

/** Creates the sample themepark_tracker (8 parks, 200 rides, 8,000 wait times) on a MariaDB server. */
export async function seedSample(conn: Connection): Promise<void> {
  for (const sql of SCHEMA) await conn.query(sql);
  for (const [name, tz] of PARKS) {
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    await conn.query(`INSERT INTO ${DEMO_DATABASE}.parks (name, slug, themeparks_wiki_id, timezone) VALUES (?, ?, ?, ?)`, [name, slug, `wiki-${slug}`, tz]);
  }
  await conn.query(
    `INSERT INTO ${DEMO_DATABASE}.rides (park_id, name, min_height_cm) SELECT p.id, CONCAT(p.name, ' ride ', s.seq), 90 + (s.seq * 7) % 50
       FROM ${DEMO_DATABASE}.parks p JOIN mysql.seq_1_to_25 s`,
  );
  await conn.query(
    `INSERT INTO ${DEMO_DATABASE}.wait_times (ride_id, wait_minutes, recorded_at)
       SELECT r.id, (r.id * s.seq) % 90, NOW(3) - INTERVAL s.seq MINUTE FROM ${DEMO_DATABASE}.rides r JOIN mysql.seq_1_to_40 s`,
  );
}

/** One tick of the sample load: new wait times, a ride going down or back up. */
async function writeLoad(conn: Connection, tick: number): Promise<void> {
  await conn.query('START TRANSACTION');
  await conn.query(
    `INSERT INTO ${DEMO_DATABASE}.wait_times (ride_id, wait_minutes) SELECT id, (id + ?) % 95 FROM ${DEMO_DATABASE}.rides WHERE id % 20 = ? % 20`,
    [tick, tick],
  );
  await conn.query(`UPDATE ${DEMO_DATABASE}.rides SET status = IF(status = 'OPERATING', 'DOWN', 'OPERATING') WHERE id = ?`, [1 + (tick % 200)]);
  await conn.query('COMMIT');
}

async function count(conn: Connection): Promise<number> {
  const row = await queryOne<{ n: string }>(conn, `SELECT COUNT(*) AS n FROM ${DEMO_DATABASE}.wait_times`);
  return Number(row?.n ?? 0);
}

/** A server the demo starts and removes again: from local binaries, or in Docker. */
interface ThrowawayServer {
  host: string;
  port: number;
  destroy(): Promise<void>;
}

/**
 * How the demo gets its servers: MariaDB's own binaries when the machine has
 * them (the sample data uses MariaDB's sequence tables), else Docker.
 */
function throwawayServers(onStep: (text: string) => void): (role: 'source' | 'replica', serverId: number) => Promise<ThrowawayServer> {
  const binaries = findLocalBinaries();
  if (binaries && binaries.flavor === 'mariadb') {
    onStep(`starting a throwaway source and replica (MariaDB, ${binaries.server})`);
    return (role, serverId) => LocalServer.start(binaries, { role, serverId, label: 'demo' });
  }
  if (dockerAvailable()) {
    onStep(`starting a throwaway source and replica in Docker (${DEMO_IMAGE})`);
    return (role, serverId) => DockerServer.start({ role, serverId });
  }
  throw new ServerConfigError(
    'the demo starts throwaway servers from the MariaDB server binaries (mariadbd) or in Docker, and found neither: ' +
      'install MariaDB (Debian/Ubuntu: apt-get install mariadb-server; macOS: brew install mariadb) or start Docker',
  );
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const work = mkdtempSync(join(tmpdir(), 'binlog-sync-demo-'));
  const servers: ThrowawayServer[] = [];
  const { onStep, logger } = options;
  try {
    const start = throwawayServers(onStep);
    const started = await Promise.allSettled([start('source', 1), start('replica', 2)]);
    // Keep what did start, so `finally` removes it, then report what did not.
    servers.push(...started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw new ServerConfigError(`a throwaway server did not start: ${(failed.reason as Error).message}`, { cause: failed.reason });
    const [sourceServer, replicaServer] = servers as [ThrowawayServer, ThrowawayServer];
    const admin = (s: ThrowawayServer): Endpoint => ({ host: s.host, port: s.port, user: 'root', sslMode: 'DISABLED' });
    const sourceAdmin = await connect(admin(sourceServer), 'source');
    const replicaAdmin = await connect(admin(replicaServer), 'replica');
    await sourceAdmin.query(`CREATE USER 'repl_user'@'%' IDENTIFIED BY '${PASSWORD}'`);
    await sourceAdmin.query(`GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO 'repl_user'@'%'`);
    await replicaAdmin.query(`CREATE USER 'binlog_sync'@'%' IDENTIFIED BY '${PASSWORD}'`);
    await replicaAdmin.query(`GRANT ALL PRIVILEGES ON *.* TO 'binlog_sync'@'%'`);

    onStep(`creating a sample ${DEMO_DATABASE} (parks, rides, wait times) on the source`);
    await seedSample(sourceAdmin);

    const source: Endpoint = { host: sourceServer.host, port: sourceServer.port, user: 'repl_user', password: PASSWORD, sslMode: 'DISABLED' };
    const replica: Endpoint = { host: replicaServer.host, port: replicaServer.port, user: 'binlog_sync', password: PASSWORD, sslMode: 'DISABLED' };
    const filter = { databases: [DEMO_DATABASE], includeTables: [], excludeTables: [], rewriteDb: {} };
    const state = StateStore.open(join(work, 'state.sqlite'), { create: true });
    let served: ServedRun | undefined;
    try {
      onStep('snapshot: copying it to the read-only replica at one exact binlog position');
      const snap = await runSnapshot({ source, replica, filter, state, logger, dropExisting: false, signal: options.signal });
      onStep(`snapshot done: ${snap.rows} rows in ${snap.tables} tables`);

      onStep(`replicating while a sample load writes to the source, for ${options.seconds} s (Ctrl-C stops earlier)`);
      const controller = new AbortController();
      const stopReplicator = (): void => controller.abort();
      options.signal.addEventListener('abort', stopReplicator, { once: true });
      const health = new StreamHealth();
      const page = options.page ?? { host: '127.0.0.1', port: 0 };
      served = await serveRun({
        ...page,
        health,
        state,
        lagThreshold: 5,
        run: { kind: 'replica', source: describeEndpoint(source), replica: describeEndpoint(replica), ...filter, mask: [] },
      });
      const host = page.host.includes(':') ? `[${page.host}]` : page.host;
      onStep(`status page: http://${host}:${served.port}/ (up until the demo ends)`);
      const applied = { transactions: 0, rows: 0 };
      const pageFeed = served;
      const replicating = runReplicator({
        source,
        replica,
        serverId: 4242,
        filter,
        state,
        logger,
        signal: controller.signal,
        health,
        metrics: pageFeed.metrics,
        events: pageFeed.events,
        onProgress: (s) => {
          Object.assign(applied, { transactions: s.transactions, rows: s.rows });
          pageFeed.onProgress(s);
        },
      });
      let progress: DemoProgress | undefined;
      const progressOf = async (): Promise<DemoProgress> => {
        const lag = health.lagSeconds();
        const running = state.activeRunner() !== null;
        return {
          state: decideState(running, lag, 5),
          lagSeconds: lag,
          transactions: applied.transactions,
          rows: applied.rows,
          waitTimesOnSource: await count(sourceAdmin),
          waitTimesOnReplica: await count(replicaAdmin),
        };
      };
      const deadline = Date.now() + options.seconds * 1000;
      for (let tick = 1; Date.now() < deadline && !options.signal.aborted; tick++) {
        await writeLoad(sourceAdmin, tick);
        if (tick % 5 === 0) {
          progress = await progressOf();
          options.onProgress(progress);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      // Let the replica catch up with the last writes before the final look.
      for (let i = 0; i < 100; i++) {
        progress = await progressOf();
        if (progress.waitTimesOnReplica === progress.waitTimesOnSource && progress.state === 'HEALTHY') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      options.onProgress(progress!);
      controller.abort();
      const stats = await replicating;
      const final = { ...progress!, transactions: stats.transactions, rows: stats.rows };

      onStep('verify: comparing every table of source and replica by checksums');
      const report = await runVerify({ source, replica, filter, logger, rechecks: 1 });
      await Promise.all([sourceAdmin.end(), replicaAdmin.end()]);
      return { final, identical: report.identical, tables: report.tables.length };
    } finally {
      await served?.close();
      state.close();
    }
  } finally {
    onStep('removing the throwaway servers');
    await Promise.all(servers.map((s) => s.destroy()));
    rmSync(work, { recursive: true, force: true });
  }
}
