import { describe, expect, it } from 'vitest';
import { COLUMN_TYPE } from '../../../src/binlog/column-types.js';
import { hiddenColumns, type MappedColumn } from '../../../src/source/hidden-columns.js';

const hash = (n: number): MappedColumn => ({ name: `DB_ROW_HASH_${n}`, type: COLUMN_TYPE.LONGLONG, unsigned: true });
const a: MappedColumn = { name: 'a', type: COLUMN_TYPE.BLOB, unsigned: undefined };

describe('hiddenColumns', () => {
  it('are the BIGINT UNSIGNED DB_ROW_HASH_n columns at the end', () => {
    expect(hiddenColumns([a, hash(1)])).toEqual([false, true]);
    expect(hiddenColumns([a, a, hash(1), hash(2)])).toEqual([false, false, true, true]);
  });

  it('are none in a table without them', () => {
    expect(hiddenColumns([a])).toBeUndefined();
    expect(hiddenColumns([])).toBeUndefined();
  });

  it("are not a column of the table's own of that name but another type, nor one before the table's last", () => {
    const own: MappedColumn = { name: 'DB_ROW_HASH_1', type: COLUMN_TYPE.LONGLONG, unsigned: false };
    expect(hiddenColumns([a, own, hash(2)])).toEqual([false, false, true]);
    expect(hiddenColumns([hash(1), a])).toBeUndefined();
    expect(hiddenColumns([a, { ...hash(1), name: 'db_row_hash_x' }])).toBeUndefined();
  });
});
