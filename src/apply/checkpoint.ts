// binlog-sync's own schema on the replica: one row per replication stream
// holding the position of the last applied source transaction. It is written
// in the same replica transaction as that transaction's rows, so the data and
// the position can never disagree (what mysql.gtid_slave_pos and
// _vt.vreplication do for the servers' own replicas).
//
// The row also carries the owner epoch: the fencing token of the process
// that may write it. A runner claims the row with the epoch the state file
// gave it (StateStore.acquireRunner); every later checkpoint write matches
// only its own epoch. A runner that was frozen past its lock (a suspended
// VM, a debugger, a long pause) and wakes up after another took over finds
// its epoch superseded: its checkpoint update matches no row, and its
// transaction is rolled back instead of committed. The replica itself
// enforces this, whether or not the stale runner has noticed.
import { FencedError } from '../errors.js';
import type { AppliedPosition, BinlogPosition } from '../position.js';
import { CHECKPOINT_DATABASE } from '../txn/filter.js';
import { quoteIdentifier } from '../sql/identifiers.js';

/** What the checkpoint needs of a connection (mysql2's, or the applier's). */
export interface SqlConnection {
  query(sql: string, params?: unknown[]): Promise<[unknown, unknown]>;
}

const TABLE = `${quoteIdentifier(CHECKPOINT_DATABASE)}.\`positions\``;
/** XA transactions whose prepare group has been passed, until their commit or rollback group. */
const XA_TABLE = `${quoteIdentifier(CHECKPOINT_DATABASE)}.\`xa_pending\``;

export async function ensureCheckpointSchema(conn: SqlConnection): Promise<void> {
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
      pending_ddl TEXT NULL,
      pending_nontransactional TEXT NULL,
      owner_epoch BIGINT NOT NULL DEFAULT 0,
      owner_connection BIGINT UNSIGNED NULL,
      masking TEXT NULL,
      stream_seq BIGINT UNSIGNED NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  );
  await conn.query(
    `CREATE TABLE IF NOT EXISTS ${XA_TABLE} (
      stream_id VARCHAR(64) NOT NULL,
      xid VARCHAR(300) NOT NULL,
      prepared BOOLEAN NOT NULL,
      gtid VARCHAR(100) NULL,
      PRIMARY KEY (stream_id, xid)
    ) ENGINE=InnoDB DEFAULT CHARSET=ascii`,
  );
  // Replicas set up by a version without fencing, masking, the non-transactional mark or the
  // stream sequence: the columns are added in place, the row kept (MySQL has no ADD COLUMN IF NOT EXISTS).
  const [rows] = await conn.query(
    `SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'positions'`,
    [CHECKPOINT_DATABASE],
  );
  const columns = new Set((rows as Array<{ name: string }>).map((r) => r.name.toLowerCase()));
  const missing = [
    ['owner_epoch', 'BIGINT NOT NULL DEFAULT 0'],
    ['owner_connection', 'BIGINT UNSIGNED NULL'],
    ['masking', 'TEXT NULL'],
    ['pending_nontransactional', 'TEXT NULL'],
    ['stream_seq', 'BIGINT UNSIGNED NULL'],
  ].filter(([name]) => !columns.has(name!));
  if (missing.length > 0) {
    await conn.query(`ALTER TABLE ${TABLE} ${missing.map(([name, type]) => `ADD COLUMN ${name} ${type}`).join(', ')}`);
  }
}

interface CheckpointRow {
  binlog_file: string | null;
  binlog_position: string | number | null;
  gtid: string | null;
  source_timestamp: string | number | null;
  applied_at: string;
  pending_ddl: string | null;
  owner_epoch: string | number;
  stream_seq: string | number | null;
}

export interface Checkpoint extends AppliedPosition {
  /** A DDL that was started but maybe not recorded (DDL cannot commit with the position). */
  pendingDdl: string | null;
}

/** A statement and its parameters. */
export interface CheckpointStatement {
  sql: string;
  params: unknown[];
}

/**
 * Claims the stream's checkpoint row for `epoch` and returns the position it
 * holds (null when none was ever written). Throws FencedError when a later
 * epoch already owns it: another process took over.
 *
 * Read with a lock: a previous process of this stream killed while its
 * COMMIT was on the wire may still be committing on the replica. FOR UPDATE
 * waits for that transaction to end, so what is read is what it left (read
 * without the lock, its transaction would be applied a second time); and
 * once the claim commits, no transaction of an older epoch can commit a
 * checkpoint any more.
 */
export async function claimCheckpoint(conn: SqlConnection, streamId: string, epoch: number): Promise<Checkpoint | null> {
  await evictPreviousOwner(conn, streamId, epoch);
  // The row first, on its own (a row of no epoch and no position, as if never
  // claimed): a locking read of a row that is not there locks the gap where it
  // would go, and two streams claimed at once on one replica (two `position
  // set`, or a runner starting beside one) then deadlocked on their INSERTs.
  await conn.query(`INSERT IGNORE INTO ${TABLE} (stream_id, applied_at, owner_epoch) VALUES (?, UTC_TIMESTAMP(6), 0)`, [streamId]);
  await conn.query('START TRANSACTION');
  let row: CheckpointRow | undefined;
  let committed = false;
  try {
    const [rows] = await conn.query(
      `SELECT binlog_file, binlog_position, gtid, source_timestamp, DATE_FORMAT(applied_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS applied_at,
              pending_ddl, owner_epoch, stream_seq
         FROM ${TABLE} WHERE stream_id = ? FOR UPDATE`,
      [streamId],
    );
    row = (rows as CheckpointRow[])[0];
    if (row && Number(row.owner_epoch) > epoch) throw superseded(Number(row.owner_epoch), epoch);
    if (row) await conn.query(`UPDATE ${TABLE} SET owner_epoch = ?, owner_connection = CONNECTION_ID() WHERE stream_id = ?`, [epoch, streamId]);
    else {
      // (Removed between the two statements, by hand: made again.)
      await conn.query(`INSERT INTO ${TABLE} (stream_id, applied_at, owner_epoch, owner_connection) VALUES (?, UTC_TIMESTAMP(6), ?, CONNECTION_ID())`, [
        streamId,
        epoch,
      ]);
    }
    await conn.query('COMMIT');
    committed = true;
  } finally {
    if (!committed) await conn.query('ROLLBACK').catch(() => undefined);
  }
  // A row claimed before any position was written holds none.
  if (!row || (row.binlog_file === null && row.gtid === null)) return null;
  return {
    file: row.binlog_file,
    position: row.binlog_position === null ? null : Number(row.binlog_position),
    gtid: row.gtid,
    sourceTimestamp: row.source_timestamp === null ? null : Number(row.source_timestamp),
    appliedAt: row.applied_at.replace(/(\.\d{3})\d*Z$/, '$1Z'),
    streamSeq: row.stream_seq === null ? null : Number(row.stream_seq),
    pendingDdl: row.pending_ddl,
  };
}

/**
 * Ends the replica connection of the stream's previous owner, when it is
 * still there. A runner frozen past its lock (SIGSTOP, a suspended VM) keeps
 * its connection, its open transaction and that transaction's row locks,
 * the checkpoint row's among them: the new owner would wait for them for as
 * long as the freeze lasts. The caller holds a newer epoch, so the previous
 * owner may commit nothing more anyway; ending its connection rolls back
 * what it left open. (A connection that is gone, or not ours to kill, is
 * left alone: then the claim waits as before.)
 */
async function evictPreviousOwner(conn: SqlConnection, streamId: string, epoch: number): Promise<void> {
  const [rows] = await conn.query(
    `SELECT owner_epoch, owner_connection, CONNECTION_ID() AS self FROM ${TABLE} WHERE stream_id = ?`,
    [streamId],
  );
  const row = (rows as Array<{ owner_epoch: string | number; owner_connection: string | number | null; self: string | number }>)[0];
  // (An earlier session of our own epoch may have left its connection behind too, after a network cut.)
  if (!row || row.owner_connection === null || Number(row.owner_epoch) > epoch) return;
  const previous = Number(row.owner_connection);
  if (previous === Number(row.self)) return;
  const [alive] = await conn.query("SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ? AND USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)", [
    previous,
  ]);
  if ((alive as unknown[]).length === 0) return;
  await conn.query(`KILL CONNECTION ${previous}`).catch(() => undefined);
}

/**
 * The stream's position, written inside the transaction that applied the
 * rows. It updates exactly one row while `epoch` owns the stream, none once
 * another epoch has claimed it (see checkCheckpointWritten). `streamSeq`:
 * the relay stream's message of the transaction (`start --from`), null for
 * a position not read from a stream (which clears one written before).
 */
export function checkpointStatement(
  streamId: string,
  epoch: number,
  position: BinlogPosition,
  sourceTimestamp: number | null,
  streamSeq: number | null = null,
): CheckpointStatement {
  return {
    sql: `UPDATE ${TABLE} SET binlog_file = ?, binlog_position = ?, gtid = ?, source_timestamp = ?, stream_seq = ?, applied_at = UTC_TIMESTAMP(6),
               pending_ddl = NULL, pending_nontransactional = NULL
           WHERE stream_id = ? AND owner_epoch = ?`,
    params: [position.file, position.position, position.gtid, sourceTimestamp, streamSeq, streamId, epoch],
  };
}

/** Records the connection the owner applies over now (it replaced its first one). */
export function ownerConnectionStatement(streamId: string, epoch: number): CheckpointStatement {
  return { sql: `UPDATE ${TABLE} SET owner_connection = CONNECTION_ID() WHERE stream_id = ? AND owner_epoch = ?`, params: [streamId, epoch] };
}

/**
 * The masking the replica's rows were seeded with (see mask/record.ts), as
 * snapshot recorded it; null when they are not masked.
 */
export async function readMasking(conn: SqlConnection, streamId: string): Promise<string | null> {
  const [rows] = await conn.query(`SELECT masking FROM ${TABLE} WHERE stream_id = ?`, [streamId]);
  return (rows as Array<{ masking: string | null }>)[0]?.masking ?? null;
}

/** Records the masking a snapshot seeded the replica with; fenced like a checkpoint. */
export function maskingStatement(streamId: string, epoch: number, masking: string | null): CheckpointStatement {
  return { sql: `UPDATE ${TABLE} SET masking = ? WHERE stream_id = ? AND owner_epoch = ?`, params: [masking, streamId, epoch] };
}

/** Marks a DDL as started (committed before the DDL runs, so a crash mid-DDL is recognised); fenced like a checkpoint. */
export function pendingDdlStatement(streamId: string, epoch: number, marker: string): CheckpointStatement {
  return { sql: `UPDATE ${TABLE} SET pending_ddl = ? WHERE stream_id = ? AND owner_epoch = ?`, params: [marker, streamId, epoch] };
}

/**
 * Marks the transaction after the stored position as changing tables the
 * replica cannot roll back, committed before the first such change is sent.
 * Its own checkpoint clears the mark in the same replica transaction as its
 * other rows (checkpointStatement); a mark that outlives its session means
 * the transaction was interrupted after changing them, and is never applied
 * again without the operator (see NonTransactionalGuard and the session's claim).
 * Fenced like a checkpoint.
 */
export function nonTransactionalStatement(streamId: string, epoch: number, marker: string): CheckpointStatement {
  return { sql: `UPDATE ${TABLE} SET pending_nontransactional = ? WHERE stream_id = ? AND owner_epoch = ?`, params: [marker, streamId, epoch] };
}

/**
 * The mark of nonTransactionalStatement, when the transaction it names was
 * interrupted (its checkpoint clears it): that transaction changed tables
 * the replica cannot roll back (MyISAM, Aria, ...), and what it changed
 * there stays. Null when none.
 */
export async function readNonTransactionalMark(conn: SqlConnection, streamId: string): Promise<string | null> {
  const [rows] = await conn.query(`SELECT pending_nontransactional AS mark FROM ${TABLE} WHERE stream_id = ?`, [streamId]);
  return (rows as Array<{ mark: string | null }>)[0]?.mark ?? null;
}

/** A checkpoint update that matched no row: another epoch owns the stream now. */
export function checkCheckpointWritten(affectedRows: number | undefined, epoch: number): void {
  if ((affectedRows ?? 0) < 1) throw superseded(null, epoch);
}

function superseded(owner: number | null, epoch: number): FencedError {
  return new FencedError(
    `another binlog-sync process took over this replication stream on the replica${owner !== null ? ` (owner epoch ${owner}, ours ${epoch})` : ` (ours was epoch ${epoch})`}; ` +
      'this one stopped without committing anything more',
  );
}

/**
 * Records that an XA transaction's prepare group was passed: `prepared` when
 * its rows are prepared on the replica (an XA transaction of ours of the same
 * id), false when none of them were ours. Written with the checkpoint after
 * the prepare group, so the commit or rollback group knows what to do.
 */
export function xaPendingStatement(streamId: string, xid: string, prepared: boolean, gtid: string | null): CheckpointStatement {
  return {
    sql: `INSERT INTO ${XA_TABLE} (stream_id, xid, prepared, gtid) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE prepared = VALUES(prepared), gtid = VALUES(gtid)`,
    params: [streamId, xid, prepared, gtid],
  };
}

/** Forgets an XA transaction once its commit or rollback group is applied (with that group's checkpoint). */
export function xaDoneStatement(streamId: string, xid: string): CheckpointStatement {
  return { sql: `DELETE FROM ${XA_TABLE} WHERE stream_id = ? AND xid = ?`, params: [streamId, xid] };
}

/** What the replica knows of an XA transaction: null when its prepare group was never passed here. */
export async function readXaPending(conn: SqlConnection, streamId: string, xid: string): Promise<{ prepared: boolean } | null> {
  const [rows] = await conn.query(`SELECT prepared FROM ${XA_TABLE} WHERE stream_id = ? AND xid = ?`, [streamId, xid]);
  const row = (rows as Array<{ prepared: number }>)[0];
  return row ? { prepared: Number(row.prepared) === 1 } : null;
}
