// Throwaway MariaDB/MySQL servers from the machine's own server binaries: a
// data directory under the OS temp folder and a free loopback port, started
// and removed again. The test harness and `binlog-sync demo` use them; no
// Docker needed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { waitForServer } from './wait-for-server.js';

export type Flavor = 'mariadb' | 'mysql';

export interface LocalBinaries {
  server: string;
  flavor: Flavor;
  /** mariadb-install-db, for MariaDB; MySQL initialises with `mysqld --initialize-insecure`. */
  installDb?: string;
}

const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/mysql/bin', '/opt/homebrew/bin', '/usr/local/bin'];

function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...SBIN_DIRS];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The server binaries on this machine, or undefined when there are none. */
export function findLocalBinaries(): LocalBinaries | undefined {
  const mariadbd = findExecutable('mariadbd');
  const installDb = findExecutable('mariadb-install-db') ?? findExecutable('mysql_install_db');
  if (mariadbd && installDb) return { server: mariadbd, flavor: 'mariadb', installDb };
  const mysqld = findExecutable('mysqld');
  if (!mysqld) return undefined;
  const version = spawnSync(mysqld, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  if (/mariadb/i.test(version)) return installDb ? { server: mysqld, flavor: 'mariadb', installDb } : undefined;
  return { server: mysqld, flavor: 'mysql' };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface LocalServerOptions {
  role: 'source' | 'replica';
  serverId: number;
  /** The server process's system time zone (TZ), e.g. America/New_York. */
  timeZone?: string;
  /** Extra or overriding server options, e.g. { 'binlog-row-image': 'MINIMAL' }. */
  options?: Record<string, string | number>;
  /** Names the temp folder (binlog-sync-<label>-<role>-...); default 'test'. */
  label?: string;
  /** Where the temp folder goes; default the OS temp folder. */
  parentDir?: string;
}

/** Server options for the role; caller options override them. */
export function serverArgs(flavor: Flavor, opts: LocalServerOptions): Record<string, string | number> {
  const base: Record<string, string | number> = {
    'server-id': opts.serverId,
    'character-set-server': 'utf8mb4',
    'innodb-buffer-pool-size': '128M',
    'max-connections': 300,
    'skip-name-resolve': 'ON',
  };
  if (flavor === 'mysql') base['loose-mysqlx'] = 0;
  if (opts.role === 'source') {
    Object.assign(base, {
      'log-bin': 'mysql-bin',
      'binlog-format': 'ROW',
      'binlog-row-image': 'FULL',
      'binlog-row-metadata': 'FULL',
    });
  } else {
    base['read-only'] = 'ON';
  }
  return { ...base, ...(opts.options ?? {}) };
}

export class LocalServer {
  readonly host = '127.0.0.1';
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly binaries: LocalBinaries,
    readonly options: LocalServerOptions,
    readonly baseDir: string,
    public port: number,
  ) {}

  get dataDir(): string {
    return join(this.baseDir, 'data');
  }

  get errorLog(): string {
    return join(this.baseDir, 'error.log');
  }

  /** Root URL (no password) for the harness itself. */
  get adminUrl(): string {
    return `mysql://root@${this.host}:${this.port}`;
  }

  static async start(binaries: LocalBinaries, options: LocalServerOptions): Promise<LocalServer> {
    const baseDir = mkdtempSync(join(options.parentDir ?? tmpdir(), `binlog-sync-${options.label ?? 'test'}-${options.role}-`));
    const server = new LocalServer(binaries, options, baseDir, await freePort());
    server.initialise();
    await server.launch();
    return server;
  }

  /** The server's own temp folder: concurrent bootstraps sharing /tmp trip over each other's files. */
  private get env(): NodeJS.ProcessEnv {
    return { ...process.env, TMPDIR: join(this.baseDir, 'tmp'), ...(this.options.timeZone ? { TZ: this.options.timeZone } : {}) };
  }

  private initialise(): void {
    mkdirSync(join(this.baseDir, 'tmp'), { recursive: true });
    const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
    const result =
      this.binaries.flavor === 'mariadb'
        ? spawnSync(
            this.binaries.installDb!,
            [
              '--no-defaults',
              `--datadir=${this.dataDir}`,
              '--auth-root-authentication-method=normal',
              '--skip-test-db',
              ...asRoot,
            ],
            { encoding: 'utf8', env: this.env },
          )
        : spawnSync(this.binaries.server, ['--no-defaults', '--initialize-insecure', `--datadir=${this.dataDir}`, ...asRoot], {
            encoding: 'utf8',
            env: this.env,
          });
    if (result.status !== 0) {
      throw new Error(`initialising a ${this.binaries.flavor} data directory failed:\n${result.stderr || result.stdout}`);
    }
  }

  private async launch(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.spawnAndWait();
        return;
      } catch (error) {
        // Another process may have taken the port between freePort() and bind().
        if (attempt === 2 || !/address already in use|bind on TCP\/IP port/i.test(this.errorLogTail())) throw error;
        this.port = await freePort();
      }
    }
  }

  private async spawnAndWait(): Promise<void> {
    const args = serverArgs(this.binaries.flavor, this.options);
    const argv = [
      '--no-defaults',
      `--datadir=${this.dataDir}`,
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      `--socket=${join(this.baseDir, 'mysqld.sock')}`,
      `--pid-file=${join(this.baseDir, 'mysqld.pid')}`,
      `--log-error=${this.errorLog}`,
      `--tmpdir=${join(this.baseDir, 'tmp')}`,
      ...(process.getuid?.() === 0 ? ['--user=root'] : []),
      ...Object.entries(args).map(([k, v]) => `--${k}=${v}`),
    ];
    const child = spawn(this.binaries.server, argv, { env: this.env, stdio: 'ignore' });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let exitedEarly = false;
    void this.exited.then(() => (exitedEarly = true));
    try {
      await waitForServer(this.host, this.port, {
        timeoutMs: 60_000,
        gaveUp: () => (exitedEarly ? `${this.binaries.flavor} server exited during start-up:\n${this.errorLogTail()}` : undefined),
      });
    } catch (error) {
      if (exitedEarly) throw error;
      throw new Error(`${this.binaries.flavor} server did not accept connections within 60 s:\n${this.errorLogTail()}`, { cause: error });
    }
  }

  errorLogTail(lines = 15): string {
    try {
      return readFileSync(this.errorLog, 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no error log)';
    }
  }

  /** Clean shutdown (SIGTERM), waiting for the process to exit. */
  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Power-loss style stop. */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Starts the server again on the same port and data directory. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Starts a stopped server again (same port, same data). */
  async start(): Promise<void> {
    await this.spawnAndWait();
  }

  /** Stops the server and deletes its data directory. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.baseDir, { recursive: true, force: true });
  }
}
