// Gathers the facts `check` judges (checks.ts), one server at a time; a
// server that cannot be reached becomes a failed item, not an exception.
import { binlogRefusal } from '../apply/binlog-privilege.js';
import { describeEndpoint, type Endpoint } from '../config/connection-url.js';
import { connect, queryAll, queryOne, type Connection } from '../db/connect.js';
import { quoteIdentifier } from '../sql/identifiers.js';
import { createFilter, type FilterSettings } from '../txn/filter.js';
import type { MaskSettings } from '../mask/masker.js';
import { replicatedColumns } from '../mask/plan.js';
import type { DriverError } from '../db/server-errors.js';
import { describeError } from '../errors.js';
import { ensureCheckpointSchema } from '../apply/checkpoint.js';
import { binlogExpireSeconds, connectSource, readSourceInfo, sourceBinlogFiles } from '../source/source-server.js';
import {
  checkPacketLimit,
  checkReplica,
  checkSelection,
  checkSourceSettings,
  checkSnapshotPrivilege,
  checkSourceUser,
  checkStoredPosition,
  checkObjects,
  checkMasking,
  checkLargeValues,
  type CheckItem,
  type LargeColumnsTable,
  type ObjectFacts,
  type ReplicaFacts,
  type SelectedDatabase,
  type SourceFacts,
} from './checks.js';

export interface CheckInputs {
  source?: Endpoint;
  replica?: Endpoint;
  serverId: number;
  /** Binlog file of the stored position, when a state file has one. */
  storedFile: string | null;
  /**
   * --databases and the table patterns: their tables are checked for SELECT,
   * their triggers and DEFINER accounts looked at (absent: neither).
   */
  filter?: FilterSettings;
  /** --definer, as validated (`` `user`@`host` ``). */
  definer?: string | undefined;
  /** --mask and its key (loadMasking): held against the replicated columns, which are also looked at for personal names. */
  mask?: MaskSettings;
}

/** The source's triggers and the DEFINERs of its views, routines and events in `databases`. */
async function gatherObjects(source: Endpoint, replica: Endpoint, databases: readonly string[], definer: string | undefined): Promise<ObjectFacts> {
  const conn = await connectSource(source);
  let triggers: string[];
  let definers: string[];
  try {
    const list = databases.map(() => '?').join(', ');
    triggers = (
      await queryAll<{ name: string }>(
        conn,
        `SELECT CONCAT(TRIGGER_SCHEMA, '.', TRIGGER_NAME) AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN (${list}) ORDER BY 1`,
        [...databases],
      )
    ).map((r) => r.name);
    definers = (
      await queryAll<{ d: string }>(
        conn,
        `SELECT DEFINER AS d FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN (${list})
         UNION SELECT DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (${list})
         UNION SELECT DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (${list}) ORDER BY 1`,
        [...databases, ...databases, ...databases],
      )
    ).map((r) => r.d);
  } finally {
    await conn.end().catch(() => undefined);
  }
  const wanted = definer !== undefined ? [fromBackticks(definer)] : definers;
  const target = await connect(replica, 'replica');
  try {
    const accounts = new Set(
      (await queryAll<{ a: string }>(target, "SELECT CONCAT(User, '@', Host) AS a FROM mysql.user")).map((r) => r.a),
    );
    return { triggers, definers, missingOnReplica: wanted.filter((d) => !accounts.has(d)), definer };
  } finally {
    await target.end().catch(() => undefined);
  }
}

/** `` `user`@`host` `` (the validated --definer) as information_schema writes accounts: user@host. */
function fromBackticks(account: string): string {
  const m = /^`((?:[^`]|``)*)`@`((?:[^`]|``)*)`$/.exec(account);
  return m ? `${m[1]!.replaceAll('``', '`')}@${m[2]!.replaceAll('``', '`')}` : account;
}

/**
 * The tables of a database with columns for values of 16 MB or more, and
 * whether each has a primary key: from information_schema alone (reading
 * the values' sizes would scan production tables).
 */
async function largeColumns(conn: Connection, database: string): Promise<Map<string, LargeColumnsTable>> {
  const rows = await queryAll<{ t: string; c: string; type: string; bytes: string | number | null; pk: string | number }>(
    conn,
    `SELECT c.TABLE_NAME AS t, c.COLUMN_NAME AS c, c.DATA_TYPE AS type, c.CHARACTER_OCTET_LENGTH AS bytes,
       EXISTS (SELECT 1 FROM information_schema.STATISTICS s WHERE s.TABLE_SCHEMA = c.TABLE_SCHEMA AND s.TABLE_NAME = c.TABLE_NAME AND s.INDEX_NAME = 'PRIMARY') AS pk
     FROM information_schema.COLUMNS c
     WHERE c.TABLE_SCHEMA = ? AND (c.CHARACTER_OCTET_LENGTH >= ${LARGE_COLUMN_BYTES} OR c.DATA_TYPE = 'json')
     ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
    [database],
  );
  const tables = new Map<string, LargeColumnsTable>();
  for (const row of rows) {
    let table = tables.get(row.t);
    if (!table) tables.set(row.t, (table = { table: row.t, columns: [], keyless: Number(row.pk) === 0 }));
    // (MySQL's JSON has no octet length: it holds as much as LONGTEXT.)
    table.columns.push({ name: row.c, type: row.type, maxBytes: Number(row.bytes ?? 0) || 4294967295 });
  }
  return tables;
}

/** MEDIUMBLOB and MEDIUMTEXT hold 16 MB (one byte less), LONGBLOB and LONGTEXT 4 GB. */
const LARGE_COLUMN_BYTES = 16777215;

/** The selected databases as the source user sees them; a table it may not read is named with the server's words. */
async function gatherSelection(conn: Connection, settings: FilterSettings): Promise<SelectedDatabase[]> {
  const filter = createFilter(settings);
  const selected: SelectedDatabase[] = [];
  for (const database of settings.databases) {
    const schema = await queryOne<{ n: string }>(conn, 'SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
    const entry: SelectedDatabase = { database, exists: schema !== undefined, tables: [], excluded: [], unreadable: [] };
    selected.push(entry);
    if (!entry.exists) continue;
    const tables = await queryAll<{ name: string }>(
      conn,
      "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
      [database],
    );
    const large = await largeColumns(conn, database);
    for (const { name } of tables) {
      if (!filter.replicatesTable(database, name)) {
        entry.excluded.push(name);
        continue;
      }
      entry.tables.push(name);
      const columns = large.get(name);
      if (columns) (entry.large ??= []).push(columns);
      // What snapshot and verify do: read its rows (none here).
      await conn.query(`SELECT * FROM ${quoteIdentifier(database)}.${quoteIdentifier(name)} LIMIT 0`).catch((error: unknown) => {
        entry.unreadable.push({ table: name, message: describeError(error) });
      });
    }
  }
  return selected;
}

async function gatherSource(endpoint: Endpoint, filter: FilterSettings | undefined): Promise<SourceFacts> {
  const conn = await connectSource(endpoint);
  try {
    const info = await readSourceInfo(conn);
    const packet = await queryOne<{ p: string | number }>(conn, 'SELECT @@global.max_allowed_packet AS p');
    const grants = await queryAll<Record<string, string>>(conn, 'SHOW GRANTS FOR CURRENT_USER()');
    const user = await queryOne<{ u: string }>(conn, 'SELECT CURRENT_USER() AS u');
    const [name, host] = String(user?.u ?? endpoint.user).split('@');
    return {
      ...info,
      grants: grants.map((row) => String(Object.values(row)[0])),
      user: `'${name}'@'${host ?? '%'}'`,
      binlogFiles: await sourceBinlogFiles(conn).catch(() => []),
      expireSeconds: await binlogExpireSeconds(conn),
      maxAllowedPacket: Number(packet?.p),
      ...(filter
        ? {
            selected: await gatherSelection(conn, filter),
            // information_schema only: check never reads a production table's rows.
            columns: await replicatedColumns(conn, filter.databases, createFilter(filter)),
          }
        : {}),
    };
  } finally {
    await conn.end().catch(() => undefined);
  }
}

async function gatherReplica(endpoint: Endpoint): Promise<ReplicaFacts> {
  const conn = await connect(endpoint, 'replica');
  try {
    const row = await queryOne<{ version: string; serverId: string; readOnly: string; localInfile: string; u: string; packet: string }>(
      conn,
      'SELECT VERSION() AS version, @@server_id AS serverId, @@read_only AS readOnly, @@local_infile AS localInfile, CURRENT_USER() AS u, @@global.max_allowed_packet AS packet',
    );
    const [name, host] = String(row?.u ?? endpoint.user).split('@');
    let write: ReplicaFacts['write'] = { ok: true };
    try {
      // A real write, as `start` makes them, then undone.
      await ensureCheckpointSchema(conn);
      await conn.query('START TRANSACTION');
      await conn.query("INSERT INTO binlog_sync.positions (stream_id, applied_at) VALUES ('check', UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE applied_at = VALUES(applied_at)");
      await conn.query('ROLLBACK');
    } catch (error) {
      write = { ok: false, errno: (error as DriverError).errno, message: describeError(error) };
      await conn.query('ROLLBACK').catch(() => undefined);
    }
    // Whether `start` may raise the limit: setting it to the value it has changes nothing.
    const mayRaisePacket: ReplicaFacts['mayRaisePacket'] = await conn.query('SET GLOBAL max_allowed_packet = @@global.max_allowed_packet').then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, message: describeError(error) }),
    );
    const refusal = await binlogRefusal(conn);
    return {
      mayRaisePacket,
      binlogStatements: refusal ? { ok: false, privilege: refusal.reason === 'privilege', message: refusal.message } : { ok: true },
      flavor: /mariadb/i.test(String(row?.version)) ? 'mariadb' : 'mysql',
      serverId: Number(row?.serverId ?? 0),
      readOnly: Number(row?.readOnly) === 1,
      localInfile: Number(row?.localInfile) === 1,
      maxAllowedPacket: Number(row?.packet),
      user: `'${name}'@'${host ?? '%'}'`,
      write,
    };
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** Every check item, in the order an operator fixes them. */
export async function runChecks(inputs: CheckInputs): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  let replica: ReplicaFacts | null = null;
  if (!inputs.replica) {
    items.push({ name: 'replica reachable', status: 'fail', detail: 'no replica given', fix: 'pass --replica mysql://user@host:port (or BINLOG_SYNC_REPLICA)' });
  } else {
    try {
      replica = await gatherReplica(inputs.replica);
      items.push({ name: 'replica reachable', status: 'ok', detail: describeEndpoint(inputs.replica) });
    } catch (error) {
      items.push({ name: 'replica reachable', status: 'fail', detail: describeError(error), fix: 'check --replica, its password, and that the server runs' });
    }
  }
  if (!inputs.source) {
    items.push({ name: 'source reachable', status: 'fail', detail: 'no source given', fix: 'pass --source mysql://repl_user@host:port (or BINLOG_SYNC_SOURCE)' });
  } else {
    try {
      const source = await gatherSource(inputs.source, inputs.filter);
      items.push({ name: 'source reachable', status: 'ok', detail: `${describeEndpoint(inputs.source)}, ${source.version}` });
      items.push(...checkSourceSettings(source, replica?.serverId ?? null, inputs.serverId));
      items.push(...checkSourceUser(source));
      items.push(checkSnapshotPrivilege(source));
      items.push(checkStoredPosition(inputs.storedFile, source.binlogFiles));
      items.push(...checkSelection(source.selected, source.user));
      items.push(...checkMasking({ columns: source.columns, mask: inputs.mask ?? { rules: [] } }));
      if (replica) items.push(checkPacketLimit(source.maxAllowedPacket, replica.maxAllowedPacket));
      if (replica) items.push(...checkLargeValues(source.selected, source.maxAllowedPacket, replica.maxAllowedPacket, replica.mayRaisePacket));
    } catch (error) {
      items.push({ name: 'source reachable', status: 'fail', detail: describeError(error), fix: 'check --source, its password, the network, and that the server runs' });
    }
  }
  if (replica) items.push(...checkReplica(replica));
  const databases = inputs.filter?.databases ?? [];
  if (replica && inputs.source && inputs.replica && databases.length > 0) {
    try {
      items.push(...checkObjects(await gatherObjects(inputs.source, inputs.replica, databases, inputs.definer)));
    } catch (error) {
      items.push({ name: 'definers', status: 'warn', detail: `could not read the objects of the replicated databases: ${describeError(error)}`, fix: 'GRANT SELECT ON *.* TO the source user' });
    }
  }
  return items;
}
