import { describe, expect, it } from 'vitest';
import type { RowChange, TableDef } from '../../../src/source/events.js';
import { ReplicaHistory, buildVersionedChange, mayBeSystemVersioned, type Versioning } from '../../../src/sql/versioning.js';

// A table WITH SYSTEM VERSIONING as the binlog describes it: its implicit period columns come last.
const table: TableDef = {
  database: 'app',
  table: 'sv',
  columns: [
    { name: 'id', kind: 'plain' },
    { name: 'x', kind: 'plain' },
    { name: 'row_start', kind: 'timestamp', decimals: 6 },
    { name: 'row_end', kind: 'timestamp', decimals: 6 },
  ],
  primaryKey: [0],
};
const versioning: Versioning = { start: 2, end: 3 };
const MAX = '2038-01-19 03:14:07.999999';
const T1 = '2026-12-02 01:12:51.212288';
const T2 = '2026-12-02 01:12:51.216598';
const all = [true, true, true, true];

function change(kind: RowChange['kind'], rows: RowChange['rows']): RowChange {
  return { kind, table, present: all, rows, noForeignKeyChecks: false };
}

describe('mayBeSystemVersioned', () => {
  it('is a table with two TIMESTAMP(6) columns or more', () => {
    expect(mayBeSystemVersioned(table)).toBe(true);
    expect(mayBeSystemVersioned({ ...table, columns: table.columns.slice(0, 3) })).toBe(false);
    const seconds = table.columns.map((c) => (c.kind === 'timestamp' ? { ...c, decimals: 0 } : c));
    expect(mayBeSystemVersioned({ ...table, columns: [...seconds, { name: 'u', kind: 'timestamp', decimals: 6 }] })).toBe(false);
  });
});

describe('buildVersionedChange', () => {
  it('inserts rows with their own period', () => {
    const statements = buildVersionedChange(change('insert', [{ after: [1, 10, T1, MAX] }]), versioning, new ReplicaHistory());
    expect(statements).toEqual([
      { sql: 'INSERT INTO `app`.`sv` (`id`, `x`, `row_start`, `row_end`) VALUES (?, ?, ?, ?)', params: [1, 10, T1, MAX], insertHead: 'INSERT INTO `app`.`sv` (`id`, `x`, `row_start`, `row_end`) VALUES ' },
    ]);
  });

  it("runs a versioned update at the source's time, and leaves out the history row the replica then wrote", () => {
    const history = new ReplicaHistory();
    const update = buildVersionedChange(change('update', [{ before: [1, 10, T1, MAX], after: [1, 11, T2, MAX] }]), versioning, history);
    expect(update).toEqual([
      { sql: 'SET SESSION timestamp = UNIX_TIMESTAMP(?)', params: [T2] },
      { sql: 'UPDATE `app`.`sv` SET `id` = ?, `x` = ? WHERE `id` = ?', params: [1, 11, 1], expectRows: 1 },
      { sql: 'SET SESSION timestamp = DEFAULT', params: [] },
    ]);
    // The source's history row (the old values, ended at T2) is the replica's own; another one is not.
    const inserted = buildVersionedChange(change('insert', [{ after: [1, 10, T1, T2] }, { after: [9, 9, T1, T2] }]), versioning, history);
    expect(inserted).toEqual([{ sql: expect.stringContaining('INSERT INTO') as string, params: [9, 9, T1, T2], insertHead: expect.stringContaining(' VALUES ') as string }]);
    expect(buildVersionedChange(change('insert', [{ after: [1, 10, T1, T2] }]), versioning, history)).toHaveLength(1);
  });

  it("runs a versioned delete (logged as an update of the row's end) at the source's time", () => {
    const statements = buildVersionedChange(change('update', [{ before: [2, 20, T1, MAX], after: [2, 20, T1, T2] }]), versioning, new ReplicaHistory());
    expect(statements).toEqual([
      { sql: 'SET SESSION timestamp = UNIX_TIMESTAMP(?)', params: [T2] },
      { sql: 'DELETE FROM `app`.`sv` WHERE `id` = ?', params: [2], expectRows: 1 },
      { sql: 'SET SESSION timestamp = DEFAULT', params: [] },
    ]);
  });

  it('removes outright a current row the source deleted outright (at a time before the row began), and a history row as it is', () => {
    const statements = buildVersionedChange(change('delete', [{ before: [3, 30, T2, MAX] }, { before: [4, 40, T1, T2] }]), versioning, new ReplicaHistory());
    expect(statements).toEqual([
      { sql: 'SET SESSION timestamp = UNIX_TIMESTAMP(?) - 0.000001', params: [T2] },
      { sql: 'DELETE FROM `app`.`sv` WHERE `id` = ?', params: [3], expectRows: 1 },
      { sql: 'SET SESSION timestamp = DEFAULT', params: [] },
      { sql: 'DELETE FROM `app`.`sv` WHERE `id` = ?', params: [4], expectRows: 1 },
    ]);
  });
});

describe('ReplicaHistory', () => {
  it('counts equal rows, and forgets them once taken or cleared', () => {
    const history = new ReplicaHistory();
    history.add([1, 10n, Buffer.from('a'), null]);
    history.add([1, 10n, Buffer.from('a'), null]);
    expect(history.take([1, 10n, Buffer.from('a'), null])).toBe(true);
    expect(history.take([1, 10n, Buffer.from('b'), null])).toBe(false);
    expect(history.take([1, 10n, Buffer.from('a'), null])).toBe(true);
    expect(history.take([1, 10n, Buffer.from('a'), null])).toBe(false);
    history.add([2]);
    history.clear();
    expect(history.take([2])).toBe(false);
  });
});
