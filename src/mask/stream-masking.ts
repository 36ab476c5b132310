// What a `start` session needs before it masks the binlog: the rules held
// against the source's tables (refused before anything streams), and the
// masked columns as the replica names them (to tell a masking collision
// from drift). (The collation of each text column, which `hash` folds by,
// comes with the table maps: see source/collations.ts.)
import type { Connection } from '../db/connect.js';
import { createFilter, type FilterSettings } from '../txn/filter.js';
import { Masker, type MaskSettings } from './masker.js';
import { onReplica, requireMaskPlan } from './plan.js';

export interface StreamMasking {
  /** `db.table.column` as named on the replica. */
  maskedOnReplica: string[];
}

export async function prepareStreamMasking(conn: Connection, mask: MaskSettings | undefined, filterSettings: FilterSettings): Promise<StreamMasking> {
  if (!mask || mask.rules.length === 0) return { maskedOnReplica: [] };
  const filter = createFilter(filterSettings);
  const plan = await requireMaskPlan(conn, filterSettings.databases, filter, new Masker(mask));
  return { maskedOnReplica: plan.masked.map((m) => onReplica(m.column, filter)) };
}
