// Pure: the session settings the replica's apply connection runs under, and
// the source context a DDL statement runs in. Row events carry values the
// source already checked and converted, so rows go in under one permissive
// session; a DDL statement is the source's SQL run again, so it runs as the
// source ran it: its sql_mode (ORACLE included), time zone and statement
// time, and with autocommit=1 (`EXCHANGE PARTITION` waits forever on a lock
// of its own transaction otherwise).
import { sqlModeNames } from '../source/status-vars.js';
import type { SqlFlavor } from '../sql/statements.js';
import type { ApplyAction } from '../txn/assembler.js';

/**
 * The apply session's sql_mode: accepts whatever the source stored (zero
 * dates, a zero in an AUTO_INCREMENT column, the invalid dates of
 * ALLOW_INVALID_DATES). Nothing strict: the source already checked the rows.
 */
/** The apply connection's collation (see db/connect.ts), which a DDL's context changes for it. */
export const APPLY_COLLATION = 'utf8mb4_general_ci';
/** The apply connection's character set, in which it sends everything but a DDL written in another. */
export const APPLY_CHARSET = 'utf8mb4';

export const APPLY_SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,ALLOW_INVALID_DATES';

export interface ReplicaFeatures {
  flavor: SqlFlavor;
  /** MariaDB 10.11+: rows of a system-versioned table may be inserted with their own row_start/row_end. */
  insertHistory: boolean;
  /**
   * MariaDB 10.3+: ALTER TABLE of a system-versioned table is refused unless
   * system_versioning_alter_history = KEEP, a session setting the binlog
   * does not carry. The source ran the ALTER, so it allowed it.
   */
  alterHistory?: boolean;
}

/**
 * The apply session: UTC so TIMESTAMP strings mean what the binlog meant,
 * the permissive sql_mode, and autocommit off (every write is committed
 * explicitly). On MariaDB, CHECK constraints are not checked again (the
 * source checked the rows, or had check_constraint_checks=0), and history
 * rows of system-versioned tables may be written as the source wrote them.
 */
export function applySessionStatement(features: ReplicaFeatures): string {
  const settings = [`time_zone = '+00:00'`, `sql_mode = '${APPLY_SQL_MODE}'`, 'foreign_key_checks = 1', 'autocommit = 0'];
  if (features.flavor === 'mariadb') settings.push('check_constraint_checks = 0');
  if (features.insertHistory) settings.push('system_versioning_insert_history = 1');
  if (features.alterHistory) settings.push("system_versioning_alter_history = 'KEEP'");
  return `SET SESSION ${settings.join(', ')}`;
}

export interface SessionStatement {
  sql: string;
  params: unknown[];
}

type DdlAction = Extract<ApplyAction, { type: 'ddl' }>;

/**
 * The SET that puts the apply session into the DDL's source context.
 * `sourceSystemZone`: what SYSTEM means on the source (an offset), so that a
 * DDL logged under `time_zone = SYSTEM` does not run in the replica's own
 * system zone.
 */
export function enterDdlContext(action: Pick<DdlAction, 'sqlMode' | 'timeZone' | 'time' | 'charset' | 'clientCharset'>, flavor: SqlFlavor, sourceSystemZone?: string): SessionStatement {
  // (Foreign key checks off for the helper statements around a DDL; on for the DDL itself where the source had them: ddl-applier.ts.)
  const settings = ['autocommit = 1', 'foreign_key_checks = 0'];
  const params: unknown[] = [];
  // By id, as the server's own replica sets them: the statement's text is sent in
  // character_set_client (sql/client-text.ts), and a view or routine keeps it.
  // (character_set_client by name: it takes the id of its character set's default collation only.)
  const charset = action.charset;
  if (action.clientCharset !== undefined && /^[a-z0-9_]+$/.test(action.clientCharset)) settings.push(`character_set_client = ${action.clientCharset}`);
  if (charset && [charset.connection, charset.server].every((id) => Number.isInteger(id) && id > 0)) {
    settings.push(`collation_connection = ${charset.connection}`, `collation_server = ${charset.server}`);
  }
  if (action.sqlMode !== undefined) settings.push(`sql_mode = '${sqlModeNames(action.sqlMode, flavor)}'`);
  if (action.timeZone !== undefined) {
    settings.push('time_zone = ?');
    params.push(action.timeZone.toUpperCase() === 'SYSTEM' && sourceSystemZone !== undefined ? sourceSystemZone : action.timeZone);
  }
  settings.push(`timestamp = ${statementTimestamp(action.time)}`);
  return { sql: `SET SESSION ${settings.join(', ')}`, params };
}

/**
 * The SET that brings the session back to applying rows (foreign key checks
 * are set per rows event; collation_server to the replica's own). Its
 * literals say their character set: the DDL may have left
 * collation_connection at one of ucs2, utf16 or utf32, under which a plain
 * '+00:00' is read as other characters.
 */
export function leaveDdlContext(): SessionStatement {
  return {
    sql:
      `SET SESSION autocommit = 0, sql_mode = _utf8mb4'${APPLY_SQL_MODE}', time_zone = _utf8mb4'+00:00', timestamp = DEFAULT, ` +
      `character_set_client = _utf8mb4'${APPLY_CHARSET}', collation_connection = _utf8mb4'${APPLY_COLLATION}', collation_server = DEFAULT`,
    params: [],
  };
}

/** `seconds.micros`, the exact value SET TIMESTAMP takes. */
export function statementTimestamp(time: { seconds: number; microseconds: number }): string {
  if (!Number.isSafeInteger(time.seconds) || !Number.isInteger(time.microseconds) || time.microseconds < 0 || time.microseconds > 999_999) {
    throw new RangeError(`not a statement time: ${JSON.stringify(time)}`);
  }
  return `${time.seconds}.${String(time.microseconds).padStart(6, '0')}`;
}
