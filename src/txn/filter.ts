// Which databases and tables are replicated, and under which name they land
// on the replica. Pure, decided once from the settings.
import type { TableDef } from '../source/events.js';

/** binlog-sync's own schema on the replica; never replicated from the source. */
export const CHECKPOINT_DATABASE = 'binlog_sync';

export interface FilterSettings {
  databases: readonly string[];
  includeTables: readonly string[];
  excludeTables: readonly string[];
  rewriteDb: Readonly<Record<string, string>>;
}

export interface ReplicationFilter {
  replicatesDatabase(database: string): boolean;
  replicatesTable(database: string, table: string): boolean;
  /** The replica database for a source database (after --rewrite-db). */
  targetDatabase(database: string): string;
}

/** `db.t*` style pattern to a RegExp; a pattern without a dot matches that table in any database. */
export function patternToRegExp(pattern: string): RegExp {
  const full = pattern.includes('.') ? pattern : `*.${pattern}`;
  const body = full.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^]*').replace(/\?/g, '[^]');
  return new RegExp(`^${body}$`);
}

export function createFilter(settings: FilterSettings): ReplicationFilter {
  const databases = new Set(settings.databases);
  const include = settings.includeTables.map(patternToRegExp);
  const exclude = settings.excludeTables.map(patternToRegExp);
  const replicatesDatabase = (database: string): boolean => database !== CHECKPOINT_DATABASE && databases.has(database);
  return {
    replicatesDatabase,
    replicatesTable(database, table) {
      if (!replicatesDatabase(database)) return false;
      const name = `${database}.${table}`;
      if (exclude.some((re) => re.test(name))) return false;
      return include.length === 0 || include.some((re) => re.test(name));
    },
    targetDatabase(database) {
      // Own keys only: a database may be called `constructor` or `toString`.
      return Object.hasOwn(settings.rewriteDb, database) ? settings.rewriteDb[database]! : database;
    },
  };
}

/**
 * Maps a source table definition to the replica's (database renamed by
 * --rewrite-db), or to null when it is not replicated. One target per source
 * definition, kept as long as it lives (a table map is reused while unchanged).
 */
export function targetTables(filter: ReplicationFilter): (table: TableDef) => TableDef | null {
  const targets = new WeakMap<TableDef, TableDef | null>();
  return (table) => {
    let target = targets.get(table);
    if (target === undefined) {
      target = filter.replicatesTable(table.database, table.table) ? { ...table, database: filter.targetDatabase(table.database) } : null;
      targets.set(table, target);
    }
    return target;
  };
}
