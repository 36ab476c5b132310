// What a `start` session needs before it masks the binlog: the rules held
// against the source's tables (refused before anything streams), the masked
// columns as the replica names them (to tell a masking collision from
// drift), and the source's collation names by id (a table map names a text
// column's collation by id, and `hash` folds what the collation calls equal).
import { queryAll, type Connection } from '../db/connect.js';
import { createFilter, type FilterSettings } from '../txn/filter.js';
import { Masker, type MaskSettings } from './masker.js';
import { onReplica, requireMaskPlan } from './plan.js';

export interface StreamMasking {
  /** `db.table.column` as named on the replica. */
  maskedOnReplica: string[];
  collations?: Record<number, string>;
}

export async function prepareStreamMasking(conn: Connection, mask: MaskSettings | undefined, filterSettings: FilterSettings): Promise<StreamMasking> {
  if (!mask || mask.rules.length === 0) return { maskedOnReplica: [] };
  const filter = createFilter(filterSettings);
  const plan = await requireMaskPlan(conn, filterSettings.databases, filter, new Masker(mask));
  return { maskedOnReplica: plan.masked.map((m) => onReplica(m.column, filter)), collations: await readCollations(conn) };
}

async function readCollations(conn: Connection): Promise<Record<number, string>> {
  const rows = await queryAll<{ id: number | string | null; name: string }>(conn, 'SELECT ID AS id, COLLATION_NAME AS name FROM information_schema.COLLATIONS');
  const out: Record<number, string> = {};
  for (const r of rows) if (r.id !== null) out[Number(r.id)] = r.name;
  return out;
}
