// The views, stored routines and events `verify` compares, as
// the server normalizes them: a view's definition (names qualified, case and
// spacing the server's: SHOW CREATE VIEW, as VIEW_DEFINITION is hidden from
// all but the definer), with its ALGORITHM, SQL SECURITY and CHECK OPTION;
// a routine's body and characteristics (parameters, return type,
// DETERMINISTIC, data access, SQL SECURITY, sql_mode, comment); an event's
// presence (the replica's is disabled on purpose, and its times may be in
// another zone). DEFINER is left out: --definer changes it on purpose.
import { queryAll, queryOne, type Connection } from '../db/connect.js';
import { qualifiedName } from '../sql/identifiers.js';
import { rewriteDatabases } from '../txn/ddl/rewrite.js';
import type { ReplicationFilter } from '../txn/filter.js';

export type ObjectStatus = 'identical' | 'different' | 'missing';

export interface ObjectVerdict {
  /** `database.name` as on the source. */
  object: string;
  type: 'VIEW' | 'PROCEDURE' | 'FUNCTION' | 'EVENT';
  status: ObjectStatus;
}

/** What is compared of each object, keyed by `TYPE name`: one string per object. */
type Fingerprints = Map<string, { type: ObjectVerdict['type']; name: string; fingerprint: string }>;

async function fingerprints(conn: Connection, database: string, rename: (text: string) => string): Promise<Fingerprints> {
  const out: Fingerprints = new Map();
  const add = (type: ObjectVerdict['type'], name: string, parts: unknown[]): void => {
    out.set(`${type} ${name}`, { type, name, fingerprint: JSON.stringify(parts.map((p) => (typeof p === 'string' ? rename(p) : p))) });
  };
  const views = await queryAll<{ name: string }>(conn, 'SELECT TABLE_NAME AS name FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?', [database]);
  for (const { name } of views) {
    // information_schema.VIEWS hides VIEW_DEFINITION from all but the definer on MariaDB; SHOW CREATE VIEW
    // (SHOW VIEW privilege) prints the same normalized definition, with ALGORITHM, SQL SECURITY and CHECK OPTION.
    const row = await queryOne<Record<string, unknown>>(conn, `SHOW CREATE VIEW ${qualifiedName({ database, table: name })}`);
    add('VIEW', name, [withoutDefiner(String(row?.['Create View'] ?? ''))]);
  }
  const routines = await queryAll<Record<string, unknown>>(
    conn,
    `SELECT r.ROUTINE_NAME AS name, r.ROUTINE_TYPE AS type, r.ROUTINE_DEFINITION AS body, r.DTD_IDENTIFIER AS returns,
            r.IS_DETERMINISTIC AS d, r.SQL_DATA_ACCESS AS a, r.SECURITY_TYPE AS s, r.SQL_MODE AS m, r.ROUTINE_COMMENT AS c,
            (SELECT GROUP_CONCAT(CONCAT_WS(' ', p.PARAMETER_MODE, p.PARAMETER_NAME, p.DTD_IDENTIFIER) ORDER BY p.ORDINAL_POSITION SEPARATOR ', ')
               FROM information_schema.PARAMETERS p
              WHERE p.SPECIFIC_SCHEMA = r.ROUTINE_SCHEMA AND p.SPECIFIC_NAME = r.ROUTINE_NAME AND p.ROUTINE_TYPE = r.ROUTINE_TYPE
                AND p.ORDINAL_POSITION > 0) AS params
       FROM information_schema.ROUTINES r WHERE r.ROUTINE_SCHEMA = ?`,
    [database],
  );
  for (const r of routines) add(r.type as 'PROCEDURE' | 'FUNCTION', String(r.name), [r.body, r.returns, r.d, r.a, r.s, r.m, r.c, r.params]);
  const events = await queryAll<{ name: string }>(conn, 'SELECT EVENT_NAME AS name FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?', [database]);
  for (const e of events) add('EVENT', e.name, []);
  return out;
}

/** A SHOW CREATE VIEW text without its DEFINER clause (--definer changes it on purpose). */
function withoutDefiner(sql: string): string {
  return sql.replace(/ DEFINER=(`(?:[^`]|``)*`|'(?:[^']|'')*'|[^ @]+)@(`(?:[^`]|``)*`|'(?:[^']|'')*'|[^ ]+) /, ' ');
}

/**
 * Compares the objects of a replicated database (views filtered like
 * tables) with the replica's copy, the source's text renamed as
 * --rewrite-db renames it. Differences are looked at again after `settle`
 * (replication may be applying them), up to `rechecks` times.
 */
export async function compareObjects(
  source: Connection,
  replica: Connection,
  database: string,
  filter: ReplicationFilter,
  settle: () => Promise<void>,
  rechecks: number,
): Promise<ObjectVerdict[]> {
  const target = filter.targetDatabase(database);
  const rename = (text: string): string => (target === database ? text : rewriteDatabases(text, (db) => filter.targetDatabase(db)));
  const verdicts = async (): Promise<ObjectVerdict[]> => {
    const [theirs, ours] = await Promise.all([fingerprints(source, database, rename), fingerprints(replica, target, (t) => t)]);
    const result: ObjectVerdict[] = [];
    for (const [key, o] of [...theirs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (o.type === 'VIEW' && !filter.replicatesTable(database, o.name)) continue;
      const copy = ours.get(key);
      const status: ObjectStatus = !copy ? 'missing' : copy.fingerprint === o.fingerprint ? 'identical' : 'different';
      result.push({ object: `${database}.${o.name}`, type: o.type, status });
    }
    return result;
  };
  let result = await verdicts();
  for (let attempt = 0; result.some((v) => v.status !== 'identical') && attempt < rechecks; attempt++) {
    await settle();
    result = await verdicts();
  }
  return result;
}
