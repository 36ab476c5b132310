// Whether the replica's user may send BINLOG statements (the path on which
// the replica applies row events itself, see binlog-rows.ts): MariaDB wants
// BINLOG REPLAY (in ALL PRIVILEGES; SUPER before 10.5.2), MySQL 8
// BINLOG_ADMIN (or SUPER). Asked by `start` when it connects and by `check`.
import { ER_SPECIFIC_ACCESS_DENIED, type DriverError } from '../db/server-errors.js';
import type { SqlConnection } from './checkpoint.js';

/** ER_SYNTAX_ERROR, ER_PARSE_ERROR: what an empty BINLOG statement gets from a user who may send one. */
const SYNTAX_ERRORS = new Set([1149, 1064]);

/** The grant that lets the replica's user send BINLOG statements. */
export function binlogGrant(flavor: 'mariadb' | 'mysql'): string {
  return flavor === 'mariadb' ? 'BINLOG REPLAY' : 'BINLOG_ADMIN';
}

export type BinlogRefusal = { reason: 'privilege'; message: string } | { reason: 'other'; message: string };

/**
 * Asks with an empty BINLOG statement, which the server refuses for want of
 * the privilege before it looks at anything else, and otherwise finds
 * malformed: nothing is applied either way. Undefined when the user may.
 */
export async function binlogRefusal(conn: SqlConnection): Promise<BinlogRefusal | undefined> {
  try {
    await conn.query("BINLOG ''");
    return undefined;
  } catch (error) {
    const e = error as DriverError;
    const message = e.sqlMessage ?? e.message ?? String(error);
    if (e.errno === ER_SPECIFIC_ACCESS_DENIED) return { reason: 'privilege', message };
    if (e.errno !== undefined && SYNTAX_ERRORS.has(e.errno)) return undefined;
    return { reason: 'other', message };
  }
}
