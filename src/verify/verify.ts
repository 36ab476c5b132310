// `binlog-sync verify`: proves the replica holds what the source holds. Each
// table is cut into primary-key chunks; both servers compute a row count and
// two order-independent checksums per chunk, so only checksums cross the
// network. Chunks that differ are checked again once the replica has caught
// up (changes may be in flight), and those that still differ are narrowed to
// the exact keys by comparing per-row hashes. Each table's definition is
// compared too (SHOW CREATE TABLE, see definitions.ts), and tables that only
// the replica holds are named.
import type { Endpoint } from '../config/connection-url.js';
import { connect, queryAll, streamingQuery, type Connection } from '../db/connect.js';
import { StateError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { qualifiedName, quoteIdentifier } from '../sql/identifiers.js';
import { connectSource } from '../source/source-server.js';
import { createFilter, type FilterSettings, type ReplicationFilter } from '../txn/filter.js';
import { replicatedTables, type TableInfo } from '../snapshot/table-info.js';
import { rewriteDatabases } from '../txn/ddl/rewrite.js';
import { definitionDifference, normalizeDefinition, type DefinitionDifference } from './definitions.js';
import { compareObjects, type ObjectVerdict } from './objects.js';
import { maskedReplicaImage, maskedSource, plainTerm, sumHashes, type Expression, type MaskedSource } from './masked-rows.js';
import { Masker, type MaskSettings } from '../mask/masker.js';
import { requireMaskPlan } from '../mask/plan.js';
import type { MaskRule } from '../mask/rules.js';

export type { ObjectVerdict } from './objects.js';

/** missing: only on the source; extra: only on the replica (named as there). */
export type TableStatus = 'identical' | 'different' | 'missing' | 'extra';

export interface KeyRange {
  from: unknown[];
  to: unknown[];
}

export interface TableVerdict {
  table: string;
  status: TableStatus;
  rows?: number;
  ranges?: KeyRange[];
  /** The definitions differ: the lines only one side has (absent when they are the same). */
  definition?: DefinitionDifference;
}

export interface VerifyReport {
  identical: boolean;
  tables: TableVerdict[];
  /** Views, stored routines and events (see objects.ts). */
  objects: ObjectVerdict[];
  /** The columns compared through their masks (`db.table.column`), when masking is on. */
  masked?: string[];
}

export interface VerifyOptions {
  source: Endpoint;
  replica: Endpoint;
  filter: FilterSettings;
  logger: Logger;
  /** Rows per chunk (default 1000). */
  chunkRows?: number;
  /** Waits until the replica has applied what the source has now (the running replicator's barrier). */
  waitForReplica?: () => Promise<void>;
  /** How often differing chunks are checked again (default 3). */
  rechecks?: number;
  /** --mask rules and key the replica was seeded with: masked columns are compared through them. */
  mask?: MaskSettings;
}

/** A chunk: keys above `after` (exclusive) up to `upTo` (inclusive); null means unbounded. */
interface Chunk {
  after: unknown[] | null;
  upTo: unknown[] | null;
}

interface ChunkSum {
  rows: number;
  xor: string;
  sum: string;
}

const keyList = (t: TableInfo): string => t.primaryKey.map((i) => quoteIdentifier(t.columns[i]!.name)).join(', ');

/**
 * One row as a string both servers build the same way: every column's bytes
 * hashed, NULL as N. Hashed column by column, so the string stays small
 * however large a value is: a row as hex (twice its size) would pass the
 * server's max_allowed_packet and become NULL, compared as equal.
 */
function rowImage(t: TableInfo): Expression {
  return { sql: `CONCAT_WS('#', ${t.columns.map((c) => plainTerm(quoteIdentifier(c.name))).join(', ')})`, params: [] };
}

/**
 * How one side of a table is hashed: by its server, from a row image; or, for
 * the source of a table with masked columns, here, its values masked first
 * (see masked-rows.ts). Either way to the same row hashes and chunk sums.
 */
type Side = { conn: Connection; table: TableInfo } & ({ image: Expression } | { masked: MaskedSource });

function rangeCondition(t: TableInfo, chunk: Chunk): { sql: string; params: unknown[] } {
  if (t.primaryKey.length === 0) return { sql: '1', params: [] };
  const key = `(${keyList(t)})`;
  const tuple = (values: unknown[]): string => `(${values.map(() => '?').join(', ')})`;
  const parts: string[] = [];
  const params: unknown[] = [];
  if (chunk.after) {
    parts.push(`${key} > ${tuple(chunk.after)}`);
    params.push(...chunk.after);
  }
  if (chunk.upTo) {
    parts.push(`${key} <= ${tuple(chunk.upTo)}`);
    params.push(...chunk.upTo);
  }
  return { sql: parts.length ? parts.join(' AND ') : '1', params };
}

/** Chunk boundaries from the source: every `chunkRows`-th key in key order. */
async function chunksOf(conn: Connection, t: TableInfo, chunkRows: number): Promise<Chunk[]> {
  if (t.primaryKey.length === 0) return [{ after: null, upTo: null }];
  const chunks: Chunk[] = [];
  let after: unknown[] | null = null;
  for (;;) {
    const range = rangeCondition(t, { after, upTo: null });
    const [rows] = await conn.query({
      sql: `SELECT ${keyList(t)} FROM ${qualifiedName(t)} WHERE ${range.sql} ORDER BY ${keyList(t)} LIMIT 1 OFFSET ${chunkRows - 1}`,
      values: range.params,
      rowsAsArray: true,
    });
    const boundary = (rows as unknown[][])[0];
    if (!boundary) break;
    chunks.push({ after, upTo: boundary });
    after = boundary;
  }
  chunks.push({ after, upTo: null });
  return chunks;
}

async function checksum(side: Side, chunk: Chunk): Promise<ChunkSum> {
  const { conn, table: t } = side;
  const range = rangeCondition(t, chunk);
  if ('masked' in side) return sumHashes(await maskedRowHashes(side, side.masked, chunk, false).then((rows) => rows.map((r) => r.hash)));
  const hash = `MD5(${side.image.sql})`;
  const [rows] = await conn.query(
    `SELECT COUNT(*) AS n,
            COALESCE(BIT_XOR(CAST(CONV(SUBSTRING(${hash}, 1, 16), 16, 10) AS UNSIGNED)), 0) AS x,
            COALESCE(SUM(CAST(CONV(SUBSTRING(${hash}, 17, 8), 16, 10) AS UNSIGNED)), 0) AS s
       FROM ${qualifiedName(t)} WHERE ${range.sql}`,
    [...side.image.params, ...side.image.params, ...range.params],
  );
  const row = (rows as Array<{ n: string | number; x: string | number; s: string | number }>)[0]!;
  return { rows: Number(row.n), xor: String(row.x), sum: String(row.s) };
}

/** The hash of each row of a chunk (with its key when `withKeys`), read through the masks. */
async function maskedRowHashes(side: Side, masked: MaskedSource, chunk: Chunk, withKeys: boolean): Promise<Array<{ key: unknown[]; hash: string }>> {
  const { conn, table: t } = side;
  const range = rangeCondition(t, chunk);
  const keys = withKeys ? t.primaryKey.length : 0;
  const stream = streamingQuery(
    conn,
    { sql: `SELECT ${withKeys ? `${keyList(t)}, ` : ''}${masked.terms} FROM ${qualifiedName(t)} WHERE ${range.sql}${withKeys ? ` ORDER BY ${keyList(t)}` : ''}`, values: range.params, rowsAsArray: true },
    64,
  );
  const out: Array<{ key: unknown[]; hash: string }> = [];
  try {
    for await (const row of stream as AsyncIterable<unknown[]>) out.push({ key: row.slice(0, keys), hash: masked.rowHash(row.slice(keys)) });
  } finally {
    stream.destroy();
  }
  return out;
}

const same = (a: ChunkSum, b: ChunkSum): boolean => a.rows === b.rows && a.xor === b.xor && a.sum === b.sum;

/** The keys whose rows differ within a chunk, grouped into ranges of neighbouring keys. */
async function differingRanges(source: Side, replica: Side, chunk: Chunk): Promise<KeyRange[]> {
  if (source.table.primaryKey.length === 0) return [];
  const read = async (side: Side): Promise<Map<string, { key: unknown[]; hash: string }>> => {
    const { conn, table } = side;
    let rows: Array<{ key: unknown[]; hash: string }>;
    if ('masked' in side) rows = await maskedRowHashes(side, side.masked, chunk, true);
    else {
      const range = rangeCondition(table, chunk);
      const [read] = await conn.query({
        sql: `SELECT ${keyList(table)}, MD5(${side.image.sql}) FROM ${qualifiedName(table)} WHERE ${range.sql} ORDER BY ${keyList(table)}`,
        values: [...side.image.params, ...range.params],
        rowsAsArray: true,
      });
      rows = (read as unknown[][]).map((row) => ({ key: row.slice(0, -1), hash: String(row.at(-1)) }));
    }
    return new Map(rows.map((r) => [JSON.stringify(r.key), r]));
  };
  const [a, b] = await Promise.all([read(source), read(replica)]);
  // Keys in source order, then replica-only keys; runs of neighbouring differing keys make one range.
  const order = [...a.keys(), ...[...b.keys()].filter((k) => !a.has(k))];
  const ranges: KeyRange[] = [];
  let open: KeyRange | null = null;
  for (const k of order) {
    const differs = a.get(k)?.hash !== b.get(k)?.hash;
    const key = (a.get(k) ?? b.get(k))!.key;
    if (differs) {
      if (open) open.to = key;
      else ranges.push((open = { from: key, to: key }));
    } else open = null;
  }
  return ranges;
}

async function baseTables(conn: Connection, database: string): Promise<Set<string>> {
  const rows = await queryAll<{ name: string }>(
    conn,
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [database],
  );
  return new Set(rows.map((r) => r.name));
}

async function showCreateTable(conn: Connection, t: { database: string; table: string }): Promise<string> {
  const [rows] = await conn.query(`SHOW CREATE TABLE ${qualifiedName(t)}`);
  return String(Object.values((rows as Array<Record<string, unknown>>)[0] ?? {})[1] ?? '');
}

/** How the replica's definition of a table differs from the source's, database names rewritten as --rewrite-db says. */
async function compareDefinitions(
  source: Connection,
  replica: Connection,
  t: TableInfo,
  target: TableInfo,
  rename: (database: string) => string,
): Promise<DefinitionDifference | undefined> {
  const [a, b] = await Promise.all([showCreateTable(source, t), showCreateTable(replica, target)]);
  return definitionDifference(normalizeDefinition(rewriteDatabases(a, rename)), normalizeDefinition(b));
}

/** Waits for the running replicator (or a second) before a difference is checked again. */
async function settle(options: VerifyOptions): Promise<void> {
  if (options.waitForReplica) await options.waitForReplica().catch(() => undefined);
  else await new Promise((r) => setTimeout(r, 1000));
}

export async function runVerify(options: VerifyOptions): Promise<VerifyReport> {
  const filter = createFilter(options.filter);
  const source = await connectSource(options.source);
  const replica = await connect(options.replica, 'replica');
  try {
    for (const conn of [source, replica]) await conn.query("SET SESSION time_zone = '+00:00'");
    // The replica holds masked columns masked: the source is compared through the same masks.
    const masker = new Masker(options.mask ?? { rules: [] });
    const masked = masker.active ? (await requireMaskPlan(source, options.filter.databases, filter, masker)).masked.map((m) => m.column) : [];
    const verdicts: TableVerdict[] = [];
    const objects: ObjectVerdict[] = [];
    const rename = (database: string): string => filter.targetDatabase(database);
    for (const database of options.filter.databases) {
      // information_schema hides what the user may not read: an empty list would read as "identical".
      const [visible] = await queryAll<{ n: number | string }>(source, 'SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
      if (Number(visible?.n ?? 0) === 0) {
        throw new StateError(
          `database ${database} does not exist on the source (--databases), or the source user may not read it: GRANT SELECT ON ${quoteIdentifier(database)}.* TO the source user`,
        );
      }
      const targetDatabase = rename(database);
      const onReplica = await baseTables(replica, targetDatabase);
      for (const t of await replicatedTables(source, database, filter)) {
        const name = `${t.database}.${t.table}`;
        const target: TableInfo = { ...t, database: targetDatabase };
        if (!onReplica.has(target.table)) {
          verdicts.push({ table: name, status: 'missing' });
          continue;
        }
        verdicts.push(await verifyTable(source, replica, t, target, rename, options, masker));
        options.logger.debug({ table: name, status: verdicts.at(-1)!.status }, 'verified');
      }
      for (const table of await extraTables(source, replica, database, targetDatabase, filter, options)) {
        verdicts.push({ table: `${targetDatabase}.${table}`, status: 'extra' });
      }
      objects.push(...(await compareObjects(source, replica, database, filter, () => settle(options), options.rechecks ?? 3)));
    }
    const identical = verdicts.every((v) => v.status === 'identical') && objects.every((o) => o.status === 'identical');
    return { identical, tables: verdicts, objects, ...(masker.active ? { masked } : {}) };
  } finally {
    await source.end().catch(() => undefined);
    await replica.end().catch(() => undefined);
  }
}

/**
 * The tables of a replicated database that the replica holds and the source
 * does not (and that the filter would replicate), checked again while
 * replication may still be applying a DROP or RENAME.
 */
async function extraTables(
  source: Connection,
  replica: Connection,
  database: string,
  targetDatabase: string,
  filter: ReplicationFilter,
  options: VerifyOptions,
): Promise<string[]> {
  const find = async (): Promise<string[]> => {
    const [onSource, onReplica] = await Promise.all([baseTables(source, database), baseTables(replica, targetDatabase)]);
    return [...onReplica].filter((table) => !onSource.has(table) && filter.replicatesTable(database, table));
  };
  let extra = await find();
  for (let attempt = 0; extra.length > 0 && attempt < (options.rechecks ?? 3); attempt++) {
    await settle(options);
    extra = await find();
  }
  return extra;
}

async function verifyTable(
  source: Connection,
  replica: Connection,
  t: TableInfo,
  target: TableInfo,
  rename: (database: string) => string,
  options: VerifyOptions,
  masker: Masker,
): Promise<TableVerdict> {
  const name = `${t.database}.${t.table}`;
  let definition = await compareDefinitions(source, replica, t, target, rename);
  const masks = masker.masksOf(t);
  // A masked key holds other values on the replica: its key ranges would not meet, so the table is one chunk.
  const maskedKey = masks !== null && t.primaryKey.some((i) => masks[i] !== undefined);
  const chunks = maskedKey ? [{ after: null, upTo: null }] : await chunksOf(source, t, options.chunkRows ?? 1000);
  const ruleOf = (column: string): MaskRule | undefined => masker.ruleFor(t.database, t.table, column);
  const sourceSide: Side = masks ? { conn: source, table: t, masked: maskedSource(t.columns, masks, ruleOf) } : { conn: source, table: t, image: rowImage(t) };
  const replicaSide: Side = { conn: replica, table: target, image: masks ? maskedReplicaImage(t.columns, ruleOf) : rowImage(target) };
  let rows = 0;
  let differing: Chunk[] = [];
  try {
    for (const chunk of chunks) {
      const [a, b] = await Promise.all([checksum(sourceSide, chunk), checksum(replicaSide, chunk)]);
      rows += a.rows;
      if (!same(a, b)) differing.push(chunk);
    }
  } catch (error) {
    // Rows cannot be compared when the replica's columns are not the source's (a column dropped there).
    if (definition) return { table: name, status: 'different', definition };
    throw error;
  }
  // Replication may still be applying what differs: let it catch up and look again.
  for (let attempt = 0; (differing.length > 0 || definition) && attempt < (options.rechecks ?? 3); attempt++) {
    await settle(options);
    if (definition) definition = await compareDefinitions(source, replica, t, target, rename);
    const still: Chunk[] = [];
    for (const chunk of differing) {
      const [a, b] = await Promise.all([checksum(sourceSide, chunk), checksum(replicaSide, chunk)]);
      if (!same(a, b)) still.push(chunk);
    }
    differing = still;
  }
  if (differing.length === 0 && !definition) return { table: name, status: 'identical', rows };
  const ranges: KeyRange[] = [];
  if (!maskedKey) for (const chunk of differing) ranges.push(...(await differingRanges(sourceSide, replicaSide, chunk)));
  return {
    table: name,
    status: 'different',
    rows,
    ...(differing.length > 0 && !maskedKey ? { ranges } : {}),
    ...(definition ? { definition } : {}),
  };
}
