// Real servers for the integration tests, in this order of preference:
//   1. URLs in BINLOG_SYNC_TEST_SOURCE_URL / BINLOG_SYNC_TEST_REPLICA_URL (your own servers;
//      admin users that may create users and databases);
//   2. local server binaries (mariadbd or mysqld) with throwaway data directories;
//   3. Docker through testcontainers (MariaDB LTS, or BINLOG_SYNC_TEST_DOCKER_IMAGE, e.g. mysql:8.4).
// BINLOG_SYNC_TEST_SERVERS=env|local|docker forces one. With none available the run fails
// with a message saying how to get one: integration tests never skip.
import mysql from 'mysql2/promise';
import { waitForServer } from '../../src/servers/wait-for-server.js';
import { findLocalBinaries, LocalServer, serverArgs, type Flavor, type LocalServerOptions } from '../../src/servers/local-server.js';

export type ServerKind = 'env' | 'local' | 'docker';
export type Role = 'source' | 'replica';

/** Credentials the harness creates; the passwords are distinctive so leak tests can grep for them. */
export const REPL_USER = 'repl_user';
export const REPL_PASSWORD = 'repl-Pw-7f3c9a';
export const APPLIER_USER = 'binlog_sync';
export const APPLIER_PASSWORD = 'applier-Pw-2d8e41';

/** Time zones of the two servers; the test processes run in a third (see global setup). */
export const SOURCE_TIME_ZONE = 'America/New_York';
export const REPLICA_TIME_ZONE = 'Asia/Tokyo';

/** What tests need to know about one server; plain data so vitest can `provide` it. */
export interface ServerInfo {
  kind: ServerKind;
  role: Role;
  flavor: Flavor;
  version: string;
  host: string;
  port: number;
  serverId: number;
  /** Admin URL for the tests' own set-up and checks. */
  adminUrl: string;
  /** The least-privilege user binlog-sync itself connects as. */
  userUrl: string;
}

export interface TestServers {
  source: ServerInfo;
  replica: ServerInfo;
}

/** A started server that the harness can restart and remove. */
export interface ManagedServer {
  info: ServerInfo;
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  kill(): Promise<void>;
  destroy(): Promise<void>;
}

export interface StartServerOptions {
  role: Role;
  serverId: number;
  timeZone?: string;
  /** Server options, e.g. { 'binlog-row-image': 'MINIMAL' }. */
  options?: Record<string, string | number>;
  /** Local servers: the folder their data directories go in (default the OS temp folder). */
  parentDir?: string;
}

function chooseKind(): ServerKind {
  const forced = process.env.BINLOG_SYNC_TEST_SERVERS;
  if (forced === 'env' || forced === 'local' || forced === 'docker') return forced;
  if (forced) throw new Error(`BINLOG_SYNC_TEST_SERVERS must be env, local or docker (got ${forced})`);
  if (process.env.BINLOG_SYNC_TEST_SOURCE_URL && process.env.BINLOG_SYNC_TEST_REPLICA_URL) return 'env';
  if (findLocalBinaries()) return 'local';
  return 'docker';
}

const NO_SERVERS_HELP =
  'The integration tests need real MariaDB/MySQL servers and found none. Either\n' +
  '  - install the server binaries (Debian/Ubuntu: apt-get install mariadb-server; macOS: brew install mariadb), or\n' +
  '  - start Docker (the tests then use testcontainers), or\n' +
  '  - point BINLOG_SYNC_TEST_SOURCE_URL and BINLOG_SYNC_TEST_REPLICA_URL at servers of your own\n' +
  '    (admin users; the source with log_bin, binlog_format=ROW, binlog_row_metadata=FULL).';

/** Starts (or adopts) the shared source and replica for a test run. */
export async function startTestServers(): Promise<{ servers: TestServers; managed: ManagedServer[] }> {
  const kind = chooseKind();
  if (kind === 'env') {
    const source = await adoptEnvServer('source', process.env.BINLOG_SYNC_TEST_SOURCE_URL!);
    const replica = await adoptEnvServer('replica', process.env.BINLOG_SYNC_TEST_REPLICA_URL!);
    return { servers: { source, replica }, managed: [] };
  }
  const [source, replica] = await Promise.all([
    startServer({ role: 'source', serverId: 1, timeZone: SOURCE_TIME_ZONE }, kind),
    startServer({ role: 'replica', serverId: 2, timeZone: REPLICA_TIME_ZONE }, kind),
  ]);
  return { servers: { source: source.info, replica: replica.info }, managed: [source, replica] };
}

/**
 * Starts a dedicated server, for tests that restart it or need other server
 * options than the shared pair. Not possible with servers given by URL.
 */
export async function startServer(opts: StartServerOptions, kind: ServerKind = chooseKind()): Promise<ManagedServer> {
  if (kind === 'env') {
    throw new Error('this test starts its own server: it needs local server binaries or Docker, not BINLOG_SYNC_TEST_*_URL');
  }
  if (kind === 'local') {
    const binaries = findLocalBinaries();
    if (!binaries) throw new Error(NO_SERVERS_HELP);
    const server = await LocalServer.start(binaries, opts as LocalServerOptions);
    const info = await provision(baseInfo('local', opts, binaries.flavor, server.host, server.port));
    return {
      // The port survives restarts, but a retried bind may have moved it.
      get info() {
        return withPort(info, server.port);
      },
      restart: () => server.restart(),
      stop: () => server.stop(),
      start: () => server.start(),
      kill: () => server.kill(),
      destroy: () => server.destroy(),
    };
  }
  return startDockerServer(opts);
}

function userUrl(role: Role, host: string, port: number): string {
  return role === 'source'
    ? `mysql://${REPL_USER}:${REPL_PASSWORD}@${host}:${port}`
    : `mysql://${APPLIER_USER}:${APPLIER_PASSWORD}@${host}:${port}`;
}

function baseInfo(kind: ServerKind, opts: StartServerOptions, flavor: Flavor, host: string, port: number): ServerInfo {
  const info = { kind, role: opts.role, flavor, version: '', host, port, serverId: opts.serverId, adminUrl: '', userUrl: '' };
  return withPort(info, port);
}

function withPort(info: ServerInfo, port: number): ServerInfo {
  return { ...info, port, adminUrl: `mysql://root@${info.host}:${port}`, userUrl: userUrl(info.role, info.host, port) };
}

async function startDockerServer(opts: StartServerOptions): Promise<ManagedServer> {
  let testcontainers: typeof import('testcontainers');
  try {
    testcontainers = await import('testcontainers');
    await testcontainers.getContainerRuntimeClient();
  } catch (error) {
    throw new Error(`${NO_SERVERS_HELP}\n(Docker: ${(error as Error).message})`);
  }
  const image = process.env.BINLOG_SYNC_TEST_DOCKER_IMAGE ?? 'mariadb:lts';
  const flavor: Flavor = image.startsWith('mysql') ? 'mysql' : 'mariadb';
  const args = serverArgs(flavor, { ...opts, options: { ...(opts.options ?? {}) } });
  const container = await new testcontainers.GenericContainer(image)
    .withEnvironment({
      MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1',
      MYSQL_ALLOW_EMPTY_PASSWORD: 'yes',
      ...(opts.timeZone ? { TZ: opts.timeZone } : {}),
    })
    .withCommand(Object.entries(args).map(([k, v]) => `--${k}=${v}`))
    .withExposedPorts(3306)
    .withWaitStrategy(testcontainers.Wait.forListeningPorts())
    .withStartupTimeout(180_000)
    .start();
  let port = container.getMappedPort(3306);
  const host = container.getHost();
  await waitForServer(host, port, { timeoutMs: 120_000, intervalMs: 500 });
  const info = await provision(baseInfo('docker', opts, flavor, host, port));
  const current = (): ServerInfo => withPort(info, port);
  return {
    get info() {
      return current();
    },
    restart: async () => {
      await container.restart();
      port = container.getMappedPort(3306);
      await waitForServer(host, port, { timeoutMs: 120_000, intervalMs: 500 });
    },
    stop: async () => {
      await container.exec(['sh', '-c', 'kill -TERM 1']);
    },
    start: async () => {
      await container.restart();
      port = container.getMappedPort(3306);
      await waitForServer(host, port, { timeoutMs: 120_000, intervalMs: 500 });
    },
    kill: async () => {
      await container.exec(['sh', '-c', 'kill -KILL 1']);
    },
    destroy: async () => {
      await container.stop();
    },
  };
}

async function adoptEnvServer(role: Role, adminUrl: string): Promise<ServerInfo> {
  const url = new URL(adminUrl);
  const conn = await mysql.createConnection({ uri: adminUrl });
  const [rows] = await conn.query('SELECT @@server_id AS id');
  await conn.end();
  const info: ServerInfo = {
    kind: 'env',
    role,
    flavor: 'mariadb',
    version: '',
    host: url.hostname,
    port: Number(url.port || 3306),
    serverId: Number((rows as Array<{ id: number }>)[0]!.id),
    adminUrl,
    userUrl: userUrl(role, url.hostname, Number(url.port || 3306)),
  };
  return provision(info);
}

/**
 * Creates the users binlog-sync connects as: on the source `repl_user` with
 * only REPLICATION SLAVE, REPLICATION CLIENT and SELECT; on the replica an
 * applier that may write despite read_only.
 */
async function provision(info: ServerInfo): Promise<ServerInfo> {
  const conn = await mysql.createConnection({ uri: info.adminUrl, multipleStatements: true });
  try {
    const [rows] = await conn.query('SELECT VERSION() AS version');
    const version = String((rows as Array<{ version: string }>)[0]!.version);
    const flavor: Flavor = /mariadb/i.test(version) ? 'mariadb' : 'mysql';
    if (info.role === 'source') {
      await conn.query(
        `CREATE USER IF NOT EXISTS '${REPL_USER}'@'%' IDENTIFIED BY '${REPL_PASSWORD}';` +
          `GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '${REPL_USER}'@'%';`,
      );
    } else {
      // Writing to a read_only server needs READ_ONLY ADMIN on MariaDB 10.11+ and
      // CONNECTION_ADMIN (or SUPER) on MySQL; ALL PRIVILEGES covers both.
      await conn.query(
        `CREATE USER IF NOT EXISTS '${APPLIER_USER}'@'%' IDENTIFIED BY '${APPLIER_PASSWORD}';` +
          `GRANT ALL PRIVILEGES ON *.* TO '${APPLIER_USER}'@'%';`,
      );
    }
    return { ...info, version, flavor };
  } finally {
    await conn.end();
  }
}

/** Starts a source and a replica of their own, for tests that restart them or change their settings. */
export async function startServerPair(
  ids: [number, number],
  timeZones: [string | undefined, string | undefined] = [undefined, undefined],
): Promise<[ManagedServer, ManagedServer]> {
  return Promise.all([
    startServer({ role: 'source', serverId: ids[0], ...(timeZones[0] ? { timeZone: timeZones[0] } : {}) }),
    startServer({ role: 'replica', serverId: ids[1], ...(timeZones[1] ? { timeZone: timeZones[1] } : {}) }),
  ]);
}

/** Removes servers started by a test (those that were started at all). */
export async function destroyServers(...servers: Array<ManagedServer | undefined>): Promise<void> {
  await Promise.all(servers.map((s) => s?.destroy()));
}
