// Pure: rows events of MariaDB system-versioned tables (WITH SYSTEM
// VERSIONING). The source logs a versioned UPDATE as an update of the
// current row (new values, row_start = the statement's time) followed by
// an insert of the history row (old values, row_end = that time), and a
// versioned DELETE as an update that only ends the row (row_end = the
// time). The replica's server cannot be told to write row_start/row_end in
// an UPDATE, but it versions the row itself at @@timestamp: so the update
// (or delete) runs at the source's time, without its system columns, and the
// history row the replica made itself is not inserted again. Inserts carry
// their row_start/row_end as they are (system_versioning_insert_history). A
// delete event of a current row is a row removed outright (a DELETE at a
// time before the row began keeps no history): so it is on the replica.
import type { RowChange, RowImage, TableDef } from '../source/events.js';
import { buildDelete, buildInsert, buildUpdate, type Statement } from './statements.js';

/** Where a versioned table keeps its period: column indexes of its row start and row end. */
export interface Versioning {
  start: number;
  end: number;
}

/** The largest TIMESTAMP(6), the row end of a current row (as UTC text; 64-bit timestamps since MariaDB 11.5). */
const CURRENT_ROW_ENDS = ['2038-01-19 03:14:07.999999', '2106-02-07 06:28:15.999999'];

export function isCurrentRow(versioning: Versioning, row: RowImage): boolean {
  const end = row[versioning.end];
  return typeof end === 'string' && CURRENT_ROW_ENDS.includes(end);
}

/**
 * A table that may be system-versioned: two TIMESTAMP(6) columns at least
 * (the binlog does not say which columns are a period). Its rows events are
 * built where the replica's definition is known (see the applier).
 */
export function mayBeSystemVersioned(table: TableDef): boolean {
  let periodLike = 0;
  for (const column of table.columns) if (column.kind === 'timestamp' && column.decimals === 6 && ++periodLike === 2) return true;
  return false;
}

/** History rows the replica wrote itself while applying a versioned update: their source copies are not inserted again. */
export class ReplicaHistory {
  private readonly expected = new Map<string, number>();

  /** The replica wrote `row` (the old values, ended at the update's time). */
  add(row: RowImage): void {
    const key = rowKey(row);
    this.expected.set(key, (this.expected.get(key) ?? 0) + 1);
  }

  /** True (and forgotten) when the replica already wrote this history row. */
  take(row: RowImage): boolean {
    const key = rowKey(row);
    const n = this.expected.get(key);
    if (!n) return false;
    if (n === 1) this.expected.delete(key);
    else this.expected.set(key, n - 1);
    return true;
  }

  clear(): void {
    this.expected.clear();
  }
}

function rowKey(row: RowImage): string {
  return JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value === undefined ? null : value));
}

const DEFAULT_TIMESTAMP: Statement = { sql: 'SET SESSION timestamp = DEFAULT', params: [] };

/** The session's time set to a TIMESTAMP value as the binlog gave it (UTC text; the apply session is in UTC). */
function timestampAt(value: unknown): Statement {
  return { sql: 'SET SESSION timestamp = UNIX_TIMESTAMP(?)', params: [value] };
}

/**
 * The session's time set one microsecond before a TIMESTAMP(6) value (a row
 * start after 1970-01-01 00:00:00.000001: `SET timestamp = 0` would mean now).
 */
function timestampBefore(value: unknown): Statement {
  return { sql: 'SET SESSION timestamp = UNIX_TIMESTAMP(?) - 0.000001', params: [value] };
}

/** The statements that apply a rows event of a system-versioned table, one per row (the time may differ per row). */
export function buildVersionedChange(change: RowChange, versioning: Versioning, history: ReplicaHistory): Statement[] {
  const { table, present } = change;
  switch (change.kind) {
    case 'insert': {
      const rows = change.rows.map((r) => r.after!).filter((row) => isCurrentRow(versioning, row) || !history.take(row));
      return rows.length ? [buildInsert(table, present, rows)] : [];
    }
    case 'update': {
      const presentAfter = change.presentAfter ?? present;
      const userColumns = presentAfter.map((p, i) => p && i !== versioning.start && i !== versioning.end);
      const out: Statement[] = [];
      for (const { before, after } of change.rows) {
        if (!isCurrentRow(versioning, before!)) {
          // Only history rows' own updates come here (not written by versioned SQL): applied as they are.
          out.push(buildUpdate(table, present, presentAfter, before!, after!));
        } else if (isCurrentRow(versioning, after!)) {
          if (!userColumns.some(Boolean)) continue; // nothing of its own changed (the source wrote no history either)
          // A versioned UPDATE: the replica ends the old row at the source's time and keeps it as history.
          out.push(timestampAt(after![versioning.start]), buildUpdate(table, present, userColumns, before!, after!), DEFAULT_TIMESTAMP);
          const old = [...before!];
          old[versioning.end] = after![versioning.start];
          history.add(old);
        } else {
          // A versioned DELETE: the row ends at the source's time.
          out.push(timestampAt(after![versioning.end]), buildDelete(table, present, before!), DEFAULT_TIMESTAMP);
        }
      }
      return out;
    }
    case 'delete':
      return change.rows.flatMap(({ before }) =>
        isCurrentRow(versioning, before!)
          ? // A current row the source removed outright: its DELETE ran at a time before the row
            // began (SET timestamp back), where the server keeps no history row. So does the
            // replica's at such a time (at any later one it would end the row and keep it).
            [timestampBefore(before![versioning.start]), buildDelete(table, present, before!), DEFAULT_TIMESTAMP]
          : // DELETE HISTORY: rows located as they are (the replica refuses loudly what it cannot find).
            [buildDelete(table, present, before!)],
      );
  }
}
