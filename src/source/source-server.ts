// What binlog-sync asks the source over an ordinary (read-only) connection:
// its flavour and binlog settings, its current position, and the GTID state
// at a file position. The binlog stream itself is binlog-source.ts.
import { ER_SPECIFIC_ACCESS_DENIED } from '../db/server-errors.js';
import type { Endpoint } from '../config/connection-url.js';
import { connect, queryAll, queryOne, type Connection } from '../db/connect.js';
import { ServerConfigError } from '../errors.js';
import type { BinlogPosition } from '../position.js';
import { quoteIdentifier } from '../sql/identifiers.js';

export interface SourceInfo {
  flavor: 'mariadb' | 'mysql';
  version: string;
  serverId: number;
  variables: Record<string, string>;
}

const BINLOG_VARIABLES = [
  'log_bin',
  'binlog_format',
  'binlog_row_image',
  'binlog_row_metadata',
  'binlog_transaction_compression',
  'binlog_row_value_options',
  'gtid_mode',
  // The largest row the source accepts: the replica must take it too.
  'max_allowed_packet',
];

/** Opens a session on the source that cannot write, whatever the user's grants. */
export async function connectSource(endpoint: Endpoint): Promise<Connection> {
  const conn = await connect(endpoint, 'source');
  await conn.query('SET SESSION TRANSACTION READ ONLY');
  return conn;
}

export async function readSourceInfo(conn: Connection): Promise<SourceInfo> {
  const row = await queryOne<{ version: string; serverId: string | number }>(conn, 'SELECT VERSION() AS version, @@server_id AS serverId');
  const vars = await queryAll<{ Variable_name: string; Value: string }>(
    conn,
    `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${BINLOG_VARIABLES.map(() => '?').join(', ')})`,
    BINLOG_VARIABLES,
  );
  const version = String(row?.version ?? '');
  return {
    flavor: /mariadb/i.test(version) ? 'mariadb' : 'mysql',
    version,
    serverId: Number(row?.serverId ?? 0),
    variables: Object.fromEntries(vars.map((v) => [v.Variable_name.toLowerCase(), String(v.Value)])),
  };
}

/**
 * Refuses a source whose binlog we could not apply faithfully, naming the
 * setting to change (refusing beats skipping or misapplying anything).
 */
export function assertReplicable(info: SourceInfo): void {
  const v = info.variables;
  if (v.log_bin !== undefined && v.log_bin.toUpperCase() !== 'ON' && v.log_bin !== '1') {
    throw new ServerConfigError('the source has no binary log; set log_bin in its my.cnf and restart it');
  }
  if (v.binlog_format && v.binlog_format.toUpperCase() !== 'ROW') {
    throw new ServerConfigError(
      `the source writes binlog_format=${v.binlog_format}; binlog-sync needs ROW: SET GLOBAL binlog_format=ROW (and binlog_format=ROW in my.cnf)`,
    );
  }
  if (v.binlog_row_metadata !== undefined && v.binlog_row_metadata.toUpperCase() !== 'FULL') {
    throw new ServerConfigError(
      `the source writes binlog_row_metadata=${v.binlog_row_metadata}; binlog-sync decodes rows with the table definition ` +
        'in the binlog and needs FULL: SET GLOBAL binlog_row_metadata=FULL (and in my.cnf)',
    );
  }
}

const ER_ACCESS_DENIED = 1045;
const ER_PARSE_ERROR = 1064;

function errnoOf(error: unknown): number | undefined {
  return (error as { errno?: number }).errno;
}

/**
 * The source's current binlog position (the manual guide's SHOW MASTER
 * STATUS). A user with REPLICATION SLAVE alone (the guide's) may not run
 * that on MariaDB; the GTID position, which needs no privilege, is enough
 * there to resume from. Where a privilege is really needed, the error names it.
 */
export async function currentSourcePosition(conn: Connection, info: SourceInfo): Promise<BinlogPosition> {
  let status: Record<string, unknown> | undefined;
  try {
    status = await readBinlogStatus(conn, info);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno !== ER_SPECIFIC_ACCESS_DENIED && errno !== ER_ACCESS_DENIED) throw error;
    if (info.flavor === 'mariadb') {
      const gtid = await mariadbGtidPosition(conn);
      if (gtid) return { file: null, position: null, gtid };
    }
    throw new ServerConfigError(
      info.flavor === 'mariadb'
        ? 'the source user may not read the binlog position, and the source has written no GTID yet to start from: ' +
            'GRANT BINLOG MONITOR ON *.* TO the source user (REPLICATION CLIENT before MariaDB 10.5)'
        : 'the source user may not read the binlog position: GRANT REPLICATION CLIENT ON *.* TO the source user',
      { cause: error },
    );
  }
  if (!status?.File) throw new ServerConfigError('the source reports no binlog position; is log_bin on?');
  let gtid: string | null = null;
  if (info.flavor === 'mariadb') {
    gtid = await mariadbGtidPosition(conn);
  } else if (typeof status.Executed_Gtid_Set === 'string' && status.Executed_Gtid_Set) {
    gtid = status.Executed_Gtid_Set.replace(/\s+/g, '');
  }
  return { file: String(status.File), position: Number(status.Position), gtid: gtid || null };
}

/** SHOW MASTER STATUS; on MySQL 8.4+, whose parser no longer knows it, SHOW BINARY LOG STATUS. */
async function readBinlogStatus(conn: Connection, info: SourceInfo): Promise<Record<string, unknown> | undefined> {
  try {
    return await queryOne(conn, 'SHOW MASTER STATUS');
  } catch (error) {
    // Only MySQL renamed it; any other failure (a missing privilege) is the answer.
    if (info.flavor !== 'mysql' || errnoOf(error) !== ER_PARSE_ERROR) throw error;
    return await queryOne(conn, 'SHOW BINARY LOG STATUS');
  }
}

/** MariaDB's GTID position of the binlog: readable without any privilege. */
async function mariadbGtidPosition(conn: Connection): Promise<string | null> {
  const row = await queryOne<{ pos: string }>(conn, 'SELECT @@GLOBAL.gtid_binlog_pos AS pos');
  return row?.pos || null;
}

/** MariaDB: the GTID state at a file position (BINLOG_GTID_POS); null elsewhere or when unknown. */
export async function gtidAtPosition(conn: Connection, info: SourceInfo, file: string, position: number): Promise<string | null> {
  if (info.flavor !== 'mariadb') return null;
  try {
    const row = await queryOne<{ pos: string | null }>(conn, 'SELECT BINLOG_GTID_POS(?, ?) AS pos', [file, position]);
    return row?.pos ?? null;
  } catch {
    return null;
  }
}

/** Binlog files the source still has (SHOW BINARY LOGS). */
export async function sourceBinlogFiles(conn: Connection): Promise<string[]> {
  const rows = await queryAll<{ Log_name: string }>(conn, 'SHOW BINARY LOGS');
  return rows.map((r) => r.Log_name);
}

/** The source's clock minus ours (ms), from one round trip (half of it assumed each way). */
export async function measureClockOffset(conn: Connection): Promise<number> {
  const before = Date.now();
  const row = await queryOne<{ ms: string | number }>(conn, 'SELECT UNIX_TIMESTAMP(NOW(6)) * 1000 AS ms');
  const after = Date.now();
  return Math.round(Number(row?.ms ?? after) - (before + after) / 2);
}

/** The source's system time zone as an offset, and whether that offset is the same all year. */
export interface SystemZone {
  /** `+05:30`: the offset now. */
  offset: string;
  /** False when the zone keeps daylight saving (January and July differ). */
  steady: boolean;
}

/**
 * The source's system time zone (what `time_zone = SYSTEM` means there), as
 * an offset: a DDL logged under SYSTEM must not run in the replica's own
 * system zone. CONVERT_TZ knows SYSTEM without the time zone tables.
 */
export async function sourceSystemZone(conn: Connection): Promise<SystemZone> {
  const offsetAt = (at: string): string => `TIMESTAMPDIFF(SECOND, CONVERT_TZ(${at}, 'SYSTEM', '+00:00'), ${at})`;
  const row = await queryOne<{ now: number | string; january: number | string; july: number | string }>(
    conn,
    `SELECT ${offsetAt("CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', 'SYSTEM')")} AS now,
            ${offsetAt("MAKEDATE(YEAR(UTC_TIMESTAMP()), 15)")} AS january,
            ${offsetAt("MAKEDATE(YEAR(UTC_TIMESTAMP()), 196)")} AS july`,
  );
  return { offset: formatOffset(Number(row?.now ?? 0)), steady: Number(row?.january) === Number(row?.july) };
}

/** Seconds east of UTC as MySQL writes a zone offset: `+05:30`, `-09:30`. */
export function formatOffset(seconds: number): string {
  const sign = seconds < 0 ? '-' : '+';
  const minutes = Math.round(Math.abs(seconds) / 60);
  return `${sign}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** How long the source keeps binlogs, in seconds; null for "forever". */
export async function binlogExpireSeconds(conn: Connection): Promise<number | null> {
  const rows = await queryAll<{ Variable_name: string; Value: string }>(
    conn,
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('binlog_expire_logs_seconds', 'expire_logs_days')",
  );
  const vars = Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
  const seconds = vars.binlog_expire_logs_seconds || (vars.expire_logs_days ?? 0) * 86_400;
  return seconds > 0 ? seconds : null;
}

/**
 * The source's CREATE TABLE statement for `database`.`table`, written under
 * `sqlMode` (names as SET sql_mode takes them) so that it reads back the same
 * under that mode: quoting and escaping follow it.
 */
export async function showCreateTable(conn: Connection, database: string, table: string, sqlMode?: string): Promise<string> {
  if (sqlMode !== undefined) await conn.query('SET SESSION sql_mode = ?', [sqlMode]);
  const row = await queryOne<Record<string, unknown>>(conn, `SHOW CREATE TABLE ${quoteIdentifier(database)}.${quoteIdentifier(table)}`);
  const sql = Object.values(row ?? {})[1];
  if (typeof sql !== 'string') throw new ServerConfigError(`SHOW CREATE TABLE ${database}.${table} returned no statement`);
  return sql;
}
