// The views, stored routines and events a snapshot copies with the tables.
// Their definitions are read from the source (SHOW CREATE ..., which prints
// the statement that recreates each one, with its sql_mode, time zone and
// collation), rewritten as `start` rewrites them (--rewrite-db, --definer,
// events DISABLE ON SLAVE) and created on the replica: routines first (a
// view may call a function), then views in dependency order (a view on a
// view), then events. Triggers are never copied: the rows they wrote are.
import { queryAll, queryOne, type Connection } from '../db/connect.js';
import { ServerConfigError, StateError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { qualifiedName, quoteIdentifier } from '../sql/identifiers.js';
import { rewriteDatabases, rewriteObject } from '../txn/ddl/rewrite.js';
import type { ReplicationFilter } from '../txn/filter.js';

export type ObjectType = 'VIEW' | 'PROCEDURE' | 'FUNCTION' | 'EVENT';

export interface SourceObject {
  type: ObjectType;
  database: string;
  name: string;
  /** The CREATE statement as the source prints it. */
  sql: string;
  sqlMode: string;
  collation: string;
  /** Events: the zone their times are written in. */
  timeZone?: string;
}

/** The source user cannot read one: say which grant to add. */
function notReadable(object: string, grant: string, cause?: unknown): ServerConfigError {
  return new ServerConfigError(`the source user cannot read the definition of ${object}: ${grant}`, cause === undefined ? undefined : { cause });
}

/** The views, routines and events of `database` that the filter replicates (views are filtered like tables). */
export async function readObjects(source: Connection, database: string, filter: ReplicationFilter): Promise<SourceObject[]> {
  const objects: SourceObject[] = [];
  const db = quoteIdentifier(database);
  const views = await queryAll<{ name: string }>(
    source,
    'SELECT TABLE_NAME AS name FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME',
    [database],
  );
  for (const { name } of views) {
    if (!filter.replicatesTable(database, name)) continue;
    const row = await queryOne<Record<string, string | null>>(source, `SHOW CREATE VIEW ${qualifiedName({ database, table: name })}`).catch(
      (error: unknown) => {
        throw notReadable(`view ${database}.${name}`, `GRANT SHOW VIEW ON ${db}.* TO the source user`, error);
      },
    );
    const sql = row?.['Create View'];
    if (!sql) throw notReadable(`view ${database}.${name}`, `GRANT SHOW VIEW ON ${db}.* TO the source user`);
    objects.push({ type: 'VIEW', database, name, sql, sqlMode: '', collation: String(row.collation_connection) });
  }
  const routines = await queryAll<{ name: string; type: 'PROCEDURE' | 'FUNCTION' }>(
    source,
    'SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS type FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY ROUTINE_TYPE, ROUTINE_NAME',
    [database],
  );
  for (const { name, type } of routines) {
    const label = `${type.toLowerCase()} ${database}.${name}`;
    const grant = 'GRANT SELECT ON mysql.proc TO the source user (MariaDB 11.3+: SHOW CREATE ROUTINE)';
    const row = await queryOne<Record<string, string | null>>(source, `SHOW CREATE ${type} ${qualifiedName({ database, table: name })}`).catch(
      (error: unknown) => {
        throw notReadable(label, grant, error);
      },
    );
    const sql = row?.[type === 'PROCEDURE' ? 'Create Procedure' : 'Create Function'];
    // Without the privilege the server answers with a NULL body.
    if (!sql) throw notReadable(label, grant);
    objects.push({ type, database, name, sql, sqlMode: String(row.sql_mode ?? ''), collation: String(row.collation_connection) });
  }
  const events = await queryAll<{ name: string }>(
    source,
    'SELECT EVENT_NAME AS name FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY EVENT_NAME',
    [database],
  );
  await expectAllEventsVisible(source, database, events.length);
  for (const { name } of events) {
    const row = await queryOne<Record<string, string | null>>(source, `SHOW CREATE EVENT ${qualifiedName({ database, table: name })}`).catch(
      (error: unknown) => {
        throw notReadable(`event ${database}.${name}`, `GRANT EVENT ON ${db}.* TO the source user`, error);
      },
    );
    const sql = row?.['Create Event'];
    if (!sql) throw notReadable(`event ${database}.${name}`, `GRANT EVENT ON ${db}.* TO the source user`);
    objects.push({
      type: 'EVENT',
      database,
      name,
      sql,
      sqlMode: String(row.sql_mode ?? ''),
      collation: String(row.collation_connection),
      timeZone: String(row.time_zone ?? 'SYSTEM'),
    });
  }
  return objects;
}

/**
 * information_schema lists only the events the user may see (EVENT
 * privilege): where mysql.event is readable, it tells whether some are
 * hidden, so none is left out without a word.
 */
async function expectAllEventsVisible(source: Connection, database: string, visible: number): Promise<void> {
  const row = await queryOne<{ n: number | string }>(source, 'SELECT COUNT(*) AS n FROM mysql.event WHERE db = ?', [database]).catch(() => undefined);
  if (row !== undefined && Number(row.n) > visible) {
    throw notReadable(`the events of ${database}`, `GRANT EVENT ON ${quoteIdentifier(database)}.* TO the source user`);
  }
}

/** MySQL: a view names a missing table, view or function (created in a later round). */
const NOT_YET = new Set([1146, 1356, 1305, 1049]);

/**
 * Creates the objects on the replica, replacing any of the same name (they
 * hold no rows): routines, then views (a round at a time: a view whose
 * table, view or function is not there yet waits for the next round), then
 * events, disabled.
 */
export async function createObjects(
  replica: Connection,
  objects: readonly SourceObject[],
  filter: ReplicationFilter,
  options: { definer?: string | undefined; logger: Logger },
): Promise<void> {
  const create = async (o: SourceObject): Promise<void> => {
    const target = filter.targetDatabase(o.database);
    // The text is in the object's sql_mode (a body may quote names with "..." under ANSI_QUOTES).
    const lexer = { ansiQuotes: /\bANSI(_QUOTES)?\b/.test(o.sqlMode), backslashEscapes: !/\bNO_BACKSLASH_ESCAPES\b/.test(o.sqlMode), bracketQuotes: /\bMSSQL\b/.test(o.sqlMode) };
    const sql = rewriteObject(rewriteDatabases(o.sql, (db) => filter.targetDatabase(db), lexer), { definer: options.definer, disableEvents: true }, lexer);
    const settings = ['sql_mode = ?', 'collation_connection = ?'];
    const params: unknown[] = [o.sqlMode, o.collation];
    if (o.timeZone !== undefined) {
      settings.push('time_zone = ?');
      params.push(o.timeZone);
    }
    await replica.query(`SET SESSION ${settings.join(', ')}`, params);
    await replica.query(`USE ${quoteIdentifier(target)}`);
    await replica.query(`DROP ${o.type} IF EXISTS ${qualifiedName({ database: target, table: o.name })}`);
    await replica.query(sql);
    options.logger.info({ object: `${o.database}.${o.name}`, type: o.type }, `created ${o.type.toLowerCase()} ${target}.${o.name}`);
  };
  try {
    for (const o of objects.filter((x) => x.type === 'PROCEDURE' || x.type === 'FUNCTION')) await create(o);
    let waiting = objects.filter((x) => x.type === 'VIEW');
    while (waiting.length > 0) {
      const failed: Array<{ object: SourceObject; error: unknown }> = [];
      for (const o of waiting) {
        await create(o).catch((error: unknown) => {
          if (!NOT_YET.has((error as { errno?: number }).errno ?? -1)) throw error;
          failed.push({ object: o, error });
        });
      }
      if (failed.length === waiting.length) {
        const { object, error } = failed[0]!;
        throw new StateError(`cannot create view ${object.database}.${object.name} on the replica: ${(error as Error).message}`, { cause: error });
      }
      waiting = failed.map((f) => f.object);
    }
    for (const o of objects.filter((x) => x.type === 'EVENT')) await create(o);
  } finally {
    await replica.query("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00', collation_connection = 'utf8mb4_general_ci'");
  }
}
