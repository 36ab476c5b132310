import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Masker } from '../../../src/mask/masker.js';
import type { RowImage, TableDef } from '../../../src/source/events.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');

// sysbench's table: CREATE TABLE sbtest1 (id INT PRIMARY KEY, k INT, c CHAR(120), pad CHAR(60), b VARBINARY(16))
const TABLE: TableDef = {
  database: 'sbtest',
  table: 'sbtest1',
  primaryKey: [0],
  columns: [
    { name: 'id', kind: 'plain', sqlType: 'int(11)' },
    { name: 'k', kind: 'plain', sqlType: 'int(11)' },
    { name: 'c', kind: 'plain', sqlType: 'char(120)', characterSet: 'utf8mb4', collation: 'utf8mb4_general_ci' },
    { name: 'pad', kind: 'plain', sqlType: 'char(60)', characterSet: 'utf8mb4', collation: 'utf8mb4_general_ci' },
    { name: 'b', kind: 'plain', sqlType: 'varbinary(16)' },
  ],
};
const RULES = ['sbtest.*.c=hash', 'sbtest.*.k=hash', 'sbtest.*.b=hash', 'sbtest.*.pad=fixed:x'];

const text = fc.oneof(fc.constantFrom('a', 'a ', 'b'), fc.string({ maxLength: 20 }));
const image = fc.tuple(
  fc.integer(),
  fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  fc.option(text),
  fc.option(text),
  fc.option(fc.oneof(fc.constantFrom(Buffer.from('ab')), fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)))),
);
/** An update's images: the after image keeps some of the before image's values (the same value, or equal bytes in another Buffer). */
const update = fc.tuple(image, image, fc.array(fc.boolean(), { minLength: 5, maxLength: 5 })).map(([before, other, keep]) => ({
  before: [...before] as RowImage,
  after: other.map((v, i) => (keep[i] ? (Buffer.isBuffer(before[i]) ? Buffer.from(before[i] as Buffer) : before[i]) : v)) as RowImage,
}));
const row = fc.oneof(update, image.map((after) => ({ after: [...after] as RowImage })), image.map((before) => ({ before: [...before] as RowImage })));

describe('Masker.maskRows', () => {
  it('masks each image as alone, values an update keeps included', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 8 }), (rows) => {
        const masker = new Masker({ rules: RULES, key: KEY });
        const expected = rows.map((r) => {
          const out: { before?: RowImage; after?: RowImage } = {};
          for (const side of ['before', 'after'] as const) {
            const img = (r as { before?: RowImage; after?: RowImage })[side];
            if (!img) continue;
            const copy = [...img];
            new Masker({ rules: RULES, key: KEY }).maskImages(TABLE, [copy]);
            out[side] = copy;
          }
          return out;
        });
        masker.maskRows(TABLE, rows);
        expect(rows).toEqual(expected);
      }),
    );
  });

  it('leaves columns absent from an image absent', () => {
    const rows = [{ before: [1, 2, 'c'] as RowImage, after: [1, 3] as RowImage }];
    new Masker({ rules: RULES, key: KEY }).maskRows(TABLE, rows);
    expect(rows[0]!.after).toHaveLength(2);
    expect(rows[0]!.before[2]).toMatch(/^[0-9a-f]{32}$/);
  });

  it("refuses a partial JSON update of a masked column (its changes would carry unmasked values), naming binlog_row_value_options", () => {
    const rows = [{ before: [1, 2, 'c'] as RowImage, after: [1, 3, { jsonDiffs: [{ operation: 'replace', path: '$.a', value: '"secret"' }] }] as RowImage }];
    expect(() => new Masker({ rules: RULES, key: KEY }).maskRows(TABLE, rows)).toThrow(
      "a partial JSON update (binlog_row_value_options=PARTIAL_JSON) of the masked column sbtest.sbtest1.c cannot be masked: SET GLOBAL binlog_row_value_options='' on the source (and in its my.cnf)",
    );
  });
});
