// `binlog-sync snapshot`: copy the selected databases from the source to the
// replica, consistent with one exact binlog position, and record that
// position so `start` continues with nothing missed or applied twice.
//
// The source side takes no lock: MariaDB's consistent-snapshot transaction
// reports the binlog position it corresponds to (binlog_snapshot_file /
// binlog_snapshot_position); MySQL 8 reads performance_schema.log_status
// inside the snapshot (BACKUP_ADMIN).
import type { Endpoint } from '../config/connection-url.js';
import { connect, queryAll, queryOne, streamingQuery, type Connection } from '../db/connect.js';
import { ApplyError, PacketLimitError, ServerConfigError, StateError, StateLockedError } from '../errors.js';
import { assembleQuery, partBytes } from '../db/large-query.js';
import { describeBytes, packetLimitFix, PACKET_SLACK } from '../db/packet-limit.js';
import { raisePacketLimit, sessionPacketLimit } from '../db/replica-packet-limit.js';
import { formatApplyQuery, inlineParts } from '../sql/prepare.js';
import type { Logger } from '../log/logger.js';
import { formatPosition, type BinlogPosition } from '../position.js';
import { writeStreamPosition } from '../apply/position-writer.js';
import { qualifiedName, quoteIdentifier } from '../sql/identifiers.js';
import { buildInsert } from '../sql/statements.js';
import { connectSource, gtidAtPosition, readSourceInfo, type SourceInfo } from '../source/source-server.js';
import { rewriteDatabases } from '../txn/ddl/rewrite.js';
import { createFilter, type FilterSettings, type ReplicationFilter } from '../txn/filter.js';
import type { StateStore } from '../state/state-store.js';
import { createObjects, readObjects, type SourceObject } from './objects.js';
import { Masker, type MaskSettings } from '../mask/masker.js';
import { onReplica, requireMaskPlan } from '../mask/plan.js';
import { explainCollision } from '../mask/collision.js';
import { maskingRecord, serializeRecord } from '../mask/record.js';
import { replicatedTables, selectExpression, type TableInfo } from './table-info.js';

export interface SnapshotProgress {
  table: string;
  tableRows: number;
  rowsCopied: number;
  totalRowsEstimate: number;
}

export interface SnapshotOptions {
  source: Endpoint;
  replica: Endpoint;
  filter: FilterSettings;
  state: StateStore;
  logger: Logger;
  dropExisting: boolean;
  signal: AbortSignal;
  onProgress?: (progress: SnapshotProgress) => void;
  /** Rows per INSERT (default 2000). */
  batchRows?: number;
  /** --definer: the DEFINER of the views, routines and events created (default: the source's). */
  definer?: string | undefined;
  /** --mask rules and key: masked columns are copied masked, and the replica records the masking. */
  mask?: MaskSettings;
}

export interface SnapshotResult {
  position: BinlogPosition;
  tables: number;
  rows: number;
  /** Views, routines and events created. */
  objects: number;
}

/** Marks tables a snapshot has started to fill, so an interrupted one can be run again. */
const IN_PROGRESS = 'snapshot-in-progress';

export async function runSnapshot(options: SnapshotOptions): Promise<SnapshotResult> {
  const { state, logger } = options;
  const runner = state.activeRunner();
  if (runner) throw new StateLockedError(`a \`binlog-sync start\` (pid ${runner.pid} on ${runner.hostname}) is running on ${state.path}; stop it before a snapshot`);
  const filter = createFilter(options.filter);
  const source = await connectSource(options.source);
  let replica = await openReplica(options.replica);
  try {
    const info = await readSourceInfo(source);
    const sourcePacket = Number(info.variables.max_allowed_packet);
    let limit = await sessionPacketLimit(replica);
    // An insert carries a row once, escaped (up to twice its bytes): the row read is at most the source's limit.
    const raise = await raisePacketLimit(replica, limit, sourcePacket, 2);
    if (raise.outcome === 'refused') logger.warn({ replicaMaxAllowedPacket: limit }, raise.message);
    if (raise.outcome === 'raised') {
      // A session takes the global value as it connects.
      await replica.end().catch(() => undefined);
      replica = await openReplica(options.replica);
      limit = await sessionPacketLimit(replica);
      logger.info({ replicaMaxAllowedPacket: limit }, raise.message);
    }
    const packets = { replica: limit, source: sourcePacket };
    const position = await openConsistentSnapshot(source, info);
    logger.info({ ...position }, `snapshot of the source at ${formatPosition(position)}`);

    const tables: TableInfo[] = [];
    for (const database of options.filter.databases) {
      if (!(await databaseExists(source, database))) {
        // information_schema hides what the user may not read: either is possible.
        throw new StateError(
          `database ${database} does not exist on the source (--databases), or the source user may not read it: GRANT SELECT ON ${quoteIdentifier(database)}.* TO the source user`,
        );
      }
      tables.push(...(await replicatedTables(source, database, filter)));
    }
    // Refused before the replica is touched: a rule it cannot honour would leave values unmasked.
    const masker = new Masker(options.mask ?? { rules: [] });
    const maskedOnReplica = masker.active ? (await requireMaskPlan(source, options.filter.databases, filter, masker)).masked.map((m) => onReplica(m.column, filter)) : [];
    await prepareReplica(replica, source, tables, filter, options);
    // Read now, as close to the snapshot's point as the table definitions; created once the rows are in.
    const objects: SourceObject[] = [];
    for (const database of options.filter.databases) objects.push(...(await readObjects(source, database, filter)));

    const totalRowsEstimate = tables.reduce((sum, t) => sum + t.estimatedRows, 0);
    let rowsCopied = 0;
    for (const table of tables) {
      const copied = await copyTable(source, replica, table, filter, { ...options, masker, maskedOnReplica }, packets, (n) => {
        rowsCopied += n;
        options.onProgress?.({ table: `${table.database}.${table.table}`, tableRows: table.estimatedRows, rowsCopied, totalRowsEstimate });
      });
      logger.info({ table: `${table.database}.${table.table}`, rows: copied }, `copied ${table.database}.${table.table}`);
    }
    await createObjects(replica, objects, filter, { definer: options.definer, logger });
    await source.query('COMMIT');
    await record(options, position);
    return { position, tables: tables.length, rows: rowsCopied, objects: objects.length };
  } finally {
    await source.end().catch(() => undefined);
    await replica.end().catch(() => undefined);
  }
}

/** The replica connection rows are copied over: large byte values go as escaped binary literals (see db/large-query.ts). */
function openReplica(endpoint: Endpoint): Promise<Connection> {
  return connect(endpoint, 'replica', { queryFormat: formatApplyQuery as never });
}

/** Bytes of rows per INSERT at most (one larger row goes alone): the copy holds a few batches in memory, never a table. */
export const SNAPSHOT_BATCH_BYTES = 4 * 1024 * 1024;

/** About the bytes of a row's values. */
function rowBytes(row: unknown[]): number {
  let bytes = 0;
  for (const value of row) bytes += typeof value === 'string' || Buffer.isBuffer(value) ? value.length + 4 : 8;
  return bytes;
}

async function openConsistentSnapshot(conn: Connection, info: SourceInfo): Promise<BinlogPosition> {
  await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  await conn.query("SET SESSION time_zone = '+00:00'");
  await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  if (info.flavor === 'mariadb') {
    const rows = await queryAll<{ Variable_name: string; Value: string }>(conn, "SHOW STATUS LIKE 'binlog_snapshot_%'");
    const status = Object.fromEntries(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
    const file = status.binlog_snapshot_file;
    const position = Number(status.binlog_snapshot_position);
    if (!file) throw new ServerConfigError('the source reports no binlog snapshot position; is log_bin on?');
    return { file, position, gtid: await gtidAtPosition(conn, info, file, position) };
  }
  try {
    const row = await queryOne<{ LOCAL: string }>(conn, 'SELECT LOCAL FROM performance_schema.log_status');
    const local = JSON.parse(String(row?.LOCAL ?? '{}')) as { binary_log_file?: string; binary_log_position?: number; gtid_executed?: string };
    if (!local.binary_log_file) throw new Error('no binary log in log_status');
    return { file: local.binary_log_file, position: Number(local.binary_log_position), gtid: null };
  } catch (error) {
    throw new ServerConfigError(
      `cannot read the binlog position of a consistent snapshot on MySQL (${(error as Error).message}): ` +
        `GRANT BACKUP_ADMIN ON *.* TO the source user`,
      { cause: error },
    );
  }
}

async function databaseExists(conn: Connection, database: string): Promise<boolean> {
  const row = await queryOne(conn, 'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
  return row !== undefined;
}

/**
 * Creates the target databases and tables. Tables that hold rows are only
 * replaced with --drop-existing, or when an interrupted snapshot of this
 * state file created them.
 */
async function prepareReplica(replica: Connection, source: Connection, tables: TableInfo[], filter: ReplicationFilter, options: SnapshotOptions): Promise<void> {
  await replica.query("SET SESSION foreign_key_checks = 0, time_zone = '+00:00', sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'");
  const ours = new Set<string>(JSON.parse(options.state.getMarker(IN_PROGRESS) ?? '[]') as string[]);
  const populated: string[] = [];
  for (const t of tables) {
    const target = qualifiedName({ database: filter.targetDatabase(t.database), table: t.table });
    const rows = await queryAll(replica, `SELECT 1 FROM ${target} LIMIT 1`).catch(() => []);
    if (rows.length > 0 && !options.dropExisting && !ours.has(target)) populated.push(`${filter.targetDatabase(t.database)}.${t.table}`);
  }
  if (populated.length > 0) {
    throw new StateError(
      `the replica already holds rows in ${populated.slice(0, 5).join(', ')}${populated.length > 5 ? ` and ${populated.length - 5} more` : ''}; ` +
        'run `binlog-sync snapshot --drop-existing` to replace them',
    );
  }
  options.state.setMarker(IN_PROGRESS, JSON.stringify(tables.map((t) => qualifiedName({ database: filter.targetDatabase(t.database), table: t.table }))));
  for (const database of new Set(tables.map((t) => t.database).concat(options.filter.databases))) {
    const created = await queryOne<Record<string, string>>(source, `SHOW CREATE DATABASE ${quoteIdentifier(database)}`);
    const ddl = String(Object.values(created ?? {})[1] ?? `CREATE DATABASE ${quoteIdentifier(database)}`);
    await replica.query(rewriteDatabases(ddl, (db) => filter.targetDatabase(db)).replace(/^CREATE DATABASE /i, 'CREATE DATABASE IF NOT EXISTS '));
  }
  for (const t of tables) {
    const created = await queryOne<Record<string, string>>(source, `SHOW CREATE TABLE ${qualifiedName(t)}`);
    const ddl = String(Object.values(created ?? {})[1]);
    const target = filter.targetDatabase(t.database);
    await replica.query(`USE ${quoteIdentifier(target)}`);
    await replica.query(`DROP TABLE IF EXISTS ${qualifiedName({ database: target, table: t.table })}`);
    // Foreign keys to other databases follow --rewrite-db; triggers are never copied.
    await replica.query(rewriteDatabases(ddl, (db) => filter.targetDatabase(db)));
  }
}

/** Streams a table in primary-key order and inserts it in multi-row batches; returns the rows copied. */
async function copyTable(
  source: Connection,
  replica: Connection,
  table: TableInfo,
  filter: ReplicationFilter,
  options: SnapshotOptions & { masker: Masker; maskedOnReplica: string[] },
  packets: { replica: number; source: number },
  progress: (rows: number) => void,
): Promise<number> {
  const target = { ...table, database: filter.targetDatabase(table.database) };
  const masks = options.masker.masksOf(table);
  // Masked columns are read as the bytes they hold, as the binlog carries them, so both paths mask alike.
  const columns = table.columns.map((c, i) => (masks?.[i] ? `CAST(${quoteIdentifier(c.name)} AS BINARY)` : selectExpression(c, quoteIdentifier))).join(', ');
  const order = table.primaryKey.length ? ` ORDER BY ${table.primaryKey.map((i) => quoteIdentifier(table.columns[i]!.name)).join(', ')}` : '';
  const present = table.columns.map(() => true);
  const batchRows = options.batchRows ?? 2000;
  const stream = streamingQuery(
    source,
    { sql: `SELECT ${columns} FROM ${qualifiedName(table)}${order}`, rowsAsArray: true, typeCast: rawGeometry as never },
    // Rows read ahead: fewer where rows are large (the server's average row length says so).
    Math.max(2, Math.min(batchRows * 2, Math.floor((2 * SNAPSHOT_BATCH_BYTES) / Math.max(1, table.averageRowBytes ?? 0)))),
  );
  let batch: unknown[][] = [];
  let batchBytes = 0;
  let copied = 0;
  // One INSERT in flight while the next batch is read: source and replica work at the same time.
  let inFlight: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    batchBytes = 0;
    await inFlight;
    const insert = buildInsert(target, present, rows);
    const inline = inlineParts(insert.sql, insert.params);
    const bytes = partBytes(inline) + 1;
    if (packets.replica > 0 && bytes > packets.replica) {
      throw new PacketLimitError(
        `a row of ${target.database}.${target.table} is ${describeBytes(bytes)} as a statement, more than the replica's max_allowed_packet of ${describeBytes(packets.replica)}` +
          `${packets.source > 0 ? ` (the source accepts ${describeBytes(packets.source)})` : ''}; nothing was recorded: on the replica ` +
          `${packetLimitFix(Math.max(bytes, packets.source) + PACKET_SLACK)}, then run the snapshot again`,
      );
    }
    // (mysql2 reads an object as the query's options: a query of bytes goes as `{ sql }`.)
    inFlight = replica.query({ sql: assembleQuery([inline]) } as never).then(
      () => {
        copied += rows.length;
        progress(rows.length);
      },
      (error: unknown) => {
        const failure = new ApplyError(`copying rows into ${target.database}.${target.table} failed: ${(error as Error).message}`, { cause: error });
        throw explainCollision(failure, options.maskedOnReplica, `${target.database}.${target.table}`);
      },
    );
    // Surface a failure at the next await rather than as an unhandled rejection.
    inFlight.catch(() => undefined);
  };
  try {
    for await (const row of stream as AsyncIterable<unknown[]>) {
      if (options.signal.aborted) throw new StateError('snapshot interrupted; nothing was recorded (run it again to start over)');
      if (masks) options.masker.maskImages(table, [row]);
      batch.push(row);
      batchBytes += rowBytes(row);
      if (batch.length >= batchRows || batchBytes >= SNAPSHOT_BATCH_BYTES) await flush();
    }
    await flush();
    await inFlight;
  } finally {
    stream.destroy();
  }
  return copied;
}

/** mysql2 parses spatial values into point lists; the server's own bytes round-trip exactly. */
function rawGeometry(field: { type: string; buffer: () => Buffer | null }, next: () => unknown): unknown {
  return field.type === 'GEOMETRY' ? field.buffer() : next();
}

/** Records the snapshot's position on the replica and in the state file, as `position set` does. */
async function record(options: SnapshotOptions, position: BinlogPosition): Promise<void> {
  await writeStreamPosition({
    replica: options.replica,
    state: options.state,
    position,
    sourceTimestamp: null,
    // What the copy was masked with (null: not masked), for `start` to hold its rules against.
    masking: { record: serializeRecord(maskingRecord(options.mask ?? { rules: [] })) },
    history: { event: 'set', detail: 'snapshot' },
  });
  options.state.setMarker(IN_PROGRESS, null);
}
