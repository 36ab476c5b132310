// binlog-sync's own schema on the replica: one row per replication stream
// holding the position of the last applied source transaction. It is written
// in the same replica transaction as that transaction's rows, so the data and
// the position can never disagree (what mysql.gtid_slave_pos and
// _vt.vreplication do for the servers' own replicas).
import type { Connection } from '../db/connect.js';
import type { AppliedPosition, BinlogPosition } from '../position.js';
import { CHECKPOINT_DATABASE } from '../txn/filter.js';
import { quoteIdentifier } from './statements.js';

const TABLE = `${quoteIdentifier(CHECKPOINT_DATABASE)}.\`positions\``;

export async function ensureCheckpointSchema(conn: Connection): Promise<void> {
  await conn.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(CHECKPOINT_DATABASE)}`);
  // InnoDB, or the position could not commit atomically with the rows.
  await conn.query(
    `CREATE TABLE IF NOT EXISTS ${TABLE} (
      stream_id VARCHAR(64) NOT NULL PRIMARY KEY,
      binlog_file VARCHAR(512) NULL,
      binlog_position BIGINT UNSIGNED NULL,
      gtid TEXT NULL,
      source_timestamp BIGINT NULL,
      applied_at DATETIME(6) NOT NULL,
      pending_ddl TEXT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  );
}

interface CheckpointRow {
  binlog_file: string | null;
  binlog_position: string | number | null;
  gtid: string | null;
  source_timestamp: string | number | null;
  applied_at: string;
  pending_ddl: string | null;
}

export interface Checkpoint extends AppliedPosition {
  /** A DDL that was started but maybe not recorded (DDL cannot commit with the position). */
  pendingDdl: string | null;
}

/**
 * The stream's checkpoint, read with a lock: a previous process of this
 * stream killed while its COMMIT was on the wire may still be committing on
 * the replica. FOR UPDATE waits for that transaction to end, so what is read
 * is what it left (read without the lock, its transaction would be applied
 * a second time).
 */
export async function readCheckpoint(conn: Connection, streamId: string): Promise<Checkpoint | null> {
  await conn.query('START TRANSACTION');
  let rows: unknown;
  try {
    [rows] = await conn.query(
      `SELECT binlog_file, binlog_position, gtid, source_timestamp, DATE_FORMAT(applied_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS applied_at, pending_ddl
         FROM ${TABLE} WHERE stream_id = ? FOR UPDATE`,
      [streamId],
    );
  } finally {
    await conn.query('COMMIT');
  }
  const row = (rows as CheckpointRow[])[0];
  if (!row) return null;
  return {
    file: row.binlog_file,
    position: row.binlog_position === null ? null : Number(row.binlog_position),
    gtid: row.gtid,
    sourceTimestamp: row.source_timestamp === null ? null : Number(row.source_timestamp),
    appliedAt: row.applied_at.replace(/(\.\d{3})\d*Z$/, '$1Z'),
    pendingDdl: row.pending_ddl,
  };
}

/** Upsert of the stream's position; run inside the transaction that applied the rows. */
export function checkpointStatement(
  streamId: string,
  position: BinlogPosition,
  sourceTimestamp: number | null,
  pendingDdl: string | null = null,
): { sql: string; params: unknown[] } {
  return {
    sql: `INSERT INTO ${TABLE} (stream_id, binlog_file, binlog_position, gtid, source_timestamp, applied_at, pending_ddl)
          VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6), ?)
          ON DUPLICATE KEY UPDATE binlog_file = VALUES(binlog_file), binlog_position = VALUES(binlog_position),
            gtid = VALUES(gtid), source_timestamp = VALUES(source_timestamp), applied_at = VALUES(applied_at),
            pending_ddl = VALUES(pending_ddl)`,
    params: [streamId, position.file, position.position, position.gtid, sourceTimestamp, pendingDdl],
  };
}

/** Marks a DDL as started (committed before the DDL runs, so a crash mid-DDL is recognised). */
export function pendingDdlStatement(streamId: string, marker: string): { sql: string; params: unknown[] } {
  return { sql: `UPDATE ${TABLE} SET pending_ddl = ? WHERE stream_id = ?`, params: [marker, streamId] };
}
