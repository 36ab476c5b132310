// The corpus's three servers: a source, the server's own replica of it, and a
// replica that `binlog-sync start` feeds. All three run with the options of
// MariaDB's test runner (mysql-test/include/default_mysqld.cnf: latin1, MyISAM
// as the default engine, ...), since the test files were written against them,
// and all three log ROW events with full images so that what each applied can
// be read back from its own binlog.
import { mkdirSync, symlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import mysql, { type Connection } from 'mysql2/promise';
import { EXACT_VALUES } from '../support/context.js';
import { REPL_PASSWORD, REPL_USER, startServer, type ManagedServer } from '../support/servers.js';

export const MYSQL_TEST_DIR = '/usr/share/mysql/mysql-test';

/** What every server of the corpus runs with (the test runner's defaults, then row logging). */
function corpusOptions(varDir: string): Record<string, string | number> {
  return {
    'character-set-server': 'latin1',
    'collation-server': 'latin1_swedish_ci',
    'default-storage-engine': 'myisam',
    'log-bin-trust-function-creators': 1,
    'local-infile': 1,
    'key-buffer-size': '1M',
    'max-heap-table-size': '1M',
    'sort-buffer-size': '256K',
    'binlog-direct-non-transactional-updates': 1,
    'use-stat-tables': 'preferably',
    'histogram-type': 'json_hb',
    'plugin-maturity': 'unknown',
    'secure-file-priv': varDir,
    'innodb-buffer-pool-size': '64M',
    'log-bin': 'mysql-bin',
    'binlog-format': 'ROW',
    'binlog-row-image': 'FULL',
    'binlog-row-metadata': 'FULL',
    'max-allowed-packet': '64M',
    // The versioning suite's plugin (its common.opt loads it), on all three: DDL may name its functions.
    'plugin-load-add': 'test_versioning.so',
  };
}

export interface CorpusServers {
  source: ManagedServer;
  native: ManagedServer;
  ours: ManagedServer;
  /** MYSQLTEST_VARDIR: where tests write their files (the servers' secure_file_priv). */
  varDir: string;
}

/**
 * Starts the three servers under `workDir`. The servers' data directories sit
 * two levels below `workDir` (workDir/servers/<name>/data), so a test's
 * `LOAD DATA INFILE '../../std_data/...'`, relative to the data directory as
 * under MariaDB's runner, finds the suite's data files.
 */
export async function startCorpusServers(workDir: string): Promise<CorpusServers> {
  const varDir = join(workDir, 'var');
  for (const dir of ['tmp', 'log']) mkdirSync(join(varDir, dir), { recursive: true });
  const serversDir = join(workDir, 'servers');
  mkdirSync(serversDir, { recursive: true });
  if (!existsSync(join(serversDir, 'std_data'))) symlinkSync(join(MYSQL_TEST_DIR, 'std_data'), join(serversDir, 'std_data'));
  if (!existsSync(join(varDir, 'std_data'))) symlinkSync(join(MYSQL_TEST_DIR, 'std_data'), join(varDir, 'std_data'));
  const options = corpusOptions(varDir);
  const replica = { ...options, 'log-slave-updates': 1, 'read-only': 'OFF' };
  const [source, native, ours] = await Promise.all([
    startServer({ role: 'source', serverId: 1, options, parentDir: serversDir }),
    startServer({
      role: 'replica',
      serverId: 2,
      parentDir: serversDir,
      options: {
        ...replica,
        'slave-ddl-exec-mode': 'STRICT',
        // The accounts and the test runner's own bookkeeping are not data binlog-sync replicates.
        'replicate-wild-ignore-table': 'mysql.%',
      },
    }),
    startServer({ role: 'replica', serverId: 3, options: replica, parentDir: serversDir }),
  ]);
  return { source, native, ours, varDir };
}

export async function connect(server: ManagedServer): Promise<Connection> {
  return mysql.createConnection({ uri: server.info.adminUrl, ...EXACT_VALUES });
}

export interface FilePosition {
  file: string;
  position: number;
}

export async function masterStatus(conn: Connection): Promise<FilePosition> {
  const [rows] = await conn.query('SHOW MASTER STATUS');
  const row = (rows as Array<{ File: string; Position: number | string }>)[0]!;
  return { file: row.File, position: Number(row.Position) };
}

/** Points the native replica at `from` on the source and starts it, whatever state it was in. */
export async function repositionNative(native: Connection, sourcePort: number, from: FilePosition): Promise<void> {
  await native.query('STOP SLAVE');
  await native.query('RESET SLAVE ALL');
  await native.query(
    `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${sourcePort}, MASTER_USER='${REPL_USER}', ` +
      `MASTER_PASSWORD='${REPL_PASSWORD}', MASTER_LOG_FILE='${from.file}', MASTER_LOG_POS=${from.position}, MASTER_USE_GTID=no`,
  );
  await native.query('START SLAVE');
}

/** Waits until the native replica has executed up to `target`; its SQL error if it stopped. */
export async function nativeApplied(native: Connection, target: FilePosition, timeoutMs: number): Promise<{ error?: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [rows] = await native.query('SHOW SLAVE STATUS');
    const s = (rows as Array<Record<string, string>>)[0] ?? {};
    const file = s.Relay_Master_Log_File ?? '';
    const pos = Number(s.Exec_Master_Log_Pos);
    if (file > target.file || (file === target.file && pos >= target.position)) return {};
    if (s.Last_SQL_Error) return { error: s.Last_SQL_Error };
    if (s.Last_IO_Error && s.Slave_IO_Running !== 'Yes') return { error: `IO: ${s.Last_IO_Error}` };
    if (Date.now() > deadline) return { error: `not caught up within ${timeoutMs} ms (at ${file}:${pos})` };
    await new Promise((r) => setTimeout(r, 25));
  }
}
