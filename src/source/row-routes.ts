// Which replicated tables' rows travel as binlog events, for the replica to
// apply itself (apply/binlog-rows.ts), and which go decoded, for statements
// built here (the SQL path). Decided per table where the binlog is decoded:
// a table with a masked column goes decoded (its values are changed on the
// way); so does every table when the run may not use BINLOG statements.
import type { TableDef } from './events.js';
import type { Logger } from '../log/logger.js';
import { createFilter, targetTables, type FilterSettings } from '../txn/filter.js';
import { Masker, type MaskSettings } from '../mask/masker.js';

export interface RowRouteSettings {
  filter?: FilterSettings | undefined;
  mask?: MaskSettings | undefined;
}

/**
 * The tables whose rows go as binlog events, named as on the replica (null:
 * not replicated, or decoded). Each table on the SQL path is told once.
 */
export function binlogRowTargets(settings: RowRouteSettings, logger?: Logger): (table: TableDef) => TableDef | null {
  const targetOf = settings.filter ? targetTables(createFilter(settings.filter)) : (table: TableDef): TableDef => table;
  const masker = settings.mask && settings.mask.rules.length > 0 ? new Masker(settings.mask) : undefined;
  const told = new Set<string>();
  return (table) => {
    const target = targetOf(table);
    if (target === null || !masker || masker.masksOf(table) === null) return target;
    const name = `${target.database}.${target.table}`;
    if (!told.has(name)) {
      told.add(name);
      logger?.info({ table: name, rowApplier: 'sql' }, `rows of ${name} are applied as SQL statements: it has masked columns`);
    }
    return null;
  };
}
