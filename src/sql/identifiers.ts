// Names in SQL text: every identifier binlog-sync writes is quoted here, the
// one place that knows how (database, table and column names may hold
// backticks, spaces, dots, reserved words and non-ASCII letters).
import type { TableDef } from '../source/events.js';

/** `name` in backticks, with backticks inside doubled. */
export function quoteIdentifier(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/** `database`.`table`, each part quoted. */
export function qualifiedName(table: Pick<TableDef, 'database' | 'table'>): string {
  return `${quoteIdentifier(table.database)}.${quoteIdentifier(table.table)}`;
}
