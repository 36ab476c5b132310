// Pure: columns a table map lists that no statement may name. MariaDB backs
// a UNIQUE key on a BLOB or TEXT (or one too long for an index) with a
// hidden BIGINT UNSIGNED column of hashes, DB_ROW_HASH_1, DB_ROW_HASH_2...,
// added after the table's own columns (a column of the table's own may take
// the name: the hidden one then takes the next number). The binlog's table
// map lists it, with binlog_row_metadata=FULL its name, and the rows carry
// its value; an INSERT or WHERE that names it fails ("Unknown column"), and
// the replica computes it itself. The table map says nothing more: a column
// of the table's own, at its end, named so and of that very type, would be
// taken for one (see docs/replication.md).
import { COLUMN_TYPE } from '../binlog/column-types.js';

export interface MappedColumn {
  name: string;
  type: number;
  unsigned: boolean | undefined;
}

const HASH_NAME = /^DB_ROW_HASH_[1-9][0-9]*$/;

/** Per column, whether it is a hidden long-unique hash column; undefined when none is. */
export function hiddenColumns(columns: readonly MappedColumn[]): boolean[] | undefined {
  let first = columns.length;
  while (first > 0) {
    const c = columns[first - 1]!;
    if (!HASH_NAME.test(c.name) || c.type !== COLUMN_TYPE.LONGLONG || c.unsigned !== true) break;
    first--;
  }
  if (first === columns.length) return undefined;
  return columns.map((_, i) => i >= first);
}
