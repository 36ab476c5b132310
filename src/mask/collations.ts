// The source's collation names by id: a table map names a text column's
// collation by id, and `hash` folds what the collation calls equal.
import { queryAll, type Connection } from '../db/connect.js';

export async function readCollations(conn: Connection): Promise<Record<number, string>> {
  const rows = await queryAll<{ id: number | string; name: string }>(conn, 'SELECT ID AS id, COLLATION_NAME AS name FROM information_schema.COLLATIONS');
  const out: Record<number, string> = {};
  for (const r of rows) if (r.id !== null) out[Number(r.id)] = r.name;
  return out;
}
