import fc from 'fast-check';
import mysql from 'mysql2';
import { describe, expect, it } from 'vitest';
import { BLOB_MARK, inlineParts, LARGE_VALUE_BYTES, prepareRowChange } from '../../../src/sql/prepare.js';
import { buildRowChange } from '../../../src/sql/statements.js';
import type { TableDef } from '../../../src/source/events.js';
import type { RowChange } from '../../../src/source/events.js';

const items: TableDef = {
  database: 'shop',
  table: 'items',
  columns: [
    { name: 'id', kind: 'plain' },
    { name: 'name', kind: 'plain' },
    { name: 'photo', kind: 'plain' },
  ],
  primaryKey: [0],
};
const ALL = [true, true, true];

describe('inlineParts', () => {
  it('leaves large values at marks, one copy of the bytes of a text that stands in two places', () => {
    const text = 'é'.repeat(LARGE_VALUE_BYTES);
    const bytes = Buffer.alloc(LARGE_VALUE_BYTES, 0x27);
    const { sql, blobs } = inlineParts('DELETE FROM t WHERE t <=> ? AND b <=> ? AND CAST(t AS BINARY) <=> CAST(? AS BINARY) LIMIT 1', [text, bytes, text]);
    expect(sql).toBe(`DELETE FROM t WHERE t <=> ${BLOB_MARK} AND b <=> _binary${BLOB_MARK} AND CAST(t AS BINARY) <=> CAST(${BLOB_MARK} AS BINARY) LIMIT 1`);
    expect(blobs).toHaveLength(3);
    expect(blobs[0]!.toString('utf8')).toBe(text);
    expect(blobs[1]).toBe(bytes);
    expect(blobs[2]).toBe(blobs[0]);
  });

  it('escapes every value into the text as the apply connection would (UTC for dates)', () => {
    const { sql } = inlineParts('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)', [1, "it's \\ here", null, Buffer.from([0, 0xff]), '18446744073709551615', new Date(Date.UTC(2024, 0, 2, 3, 4, 5))]);
    expect(sql).toBe("INSERT INTO t VALUES (1, 'it\\'s \\\\ here', NULL, X'00ff', '18446744073709551615', '2024-01-02 03:04:05.000')");
  });

  it('leaves a text without parameters as it is, question marks included', () => {
    expect(inlineParts("INSERT INTO t VALUES ('why?')", []).sql).toBe("INSERT INTO t VALUES ('why?')");
  });

  it('gives the same text as mysql2 formatting with the connection settings, for any values', () => {
    const value = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null), fc.uint8Array().map((a) => Buffer.from(a)));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 8 }), (values) => {
        const sql = `SELECT ${values.map(() => '?').join(', ')}`;
        expect(inlineParts(sql, values).sql).toBe(mysql.format(sql, values, false, 'Z'));
      }),
    );
  });
});

describe('prepareRowChange', () => {
  const change = (kind: RowChange['kind'], rows: RowChange['rows']): RowChange => ({ kind, table: items, present: ALL, rows, noForeignKeyChecks: false });

  it('builds the set-based statements with their values in the text, and counts the rows', () => {
    const inserted = change('insert', [{ after: [1, "O'Brien", Buffer.from('ab')] }, { after: [2, null, null] }]);
    expect(prepareRowChange(inserted, { flavor: 'mariadb', loadData: false })).toEqual({
      statements: [
        {
          sql: "INSERT INTO `shop`.`items` (`id`, `name`, `photo`) VALUES (1, 'O\\'Brien', X'6162'), (2, NULL, NULL)",
          insertHead: 'INSERT INTO `shop`.`items` (`id`, `name`, `photo`) VALUES ',
        },
      ],
      rows: 2,
    });
    const deleted = change('delete', [{ before: [1, 'a', null] }, { before: [2, 'b', null] }]);
    expect(prepareRowChange(deleted, { flavor: 'mariadb', loadData: false })).toEqual({
      statements: [
        {
          sql: 'DELETE FROM `shop`.`items` WHERE (`id`) IN ((1), (2))',
          expectRows: 2,
          setBased: true,
          keyList: { head: 'DELETE FROM `shop`.`items` WHERE (`id`) IN (', tail: ')', separator: ', ', keys: '[1]\n[2]', rows: 2 },
        },
      ],
      rows: 2,
    });
  });

  it('keeps what the applier checks: rows expected, and whether a statement is set-based', () => {
    const updated = change('update', [
      { before: [1, 'a', null], after: [1, 'b', null] },
      { before: [2, 'c', null], after: [3, 'c', null] }, // a key changes: one UPDATE per row
    ]);
    const prepared = prepareRowChange(updated, { flavor: 'mariadb', loadData: false });
    const built = buildRowChange(updated, { setBased: true, flavor: 'mariadb' });
    expect(prepared.rows).toBe(2);
    expect(prepared.statements).toEqual(built.map((s) => ({ sql: mysql.format(s.sql, s.params as never[], false, 'Z'), expectRows: 1 })));
    expect(prepared.statements[1]!.sql).toBe("UPDATE `shop`.`items` SET `id` = 3, `name` = 'c', `photo` = NULL WHERE `id` = 2");
  });

  it('locates a row of a keyless table by its bytes too, built ahead as in grouped mode (utf8 text and latin1 bytes)', () => {
    const log: TableDef = {
      database: 'shop',
      table: 'log',
      columns: [
        { name: 's', kind: 'plain', collated: true },
        { name: 'l', kind: 'raw-text', charset: 'latin1', collated: true },
      ],
      primaryKey: [],
    };
    const deleted: RowChange = { kind: 'delete', table: log, present: [true, true], rows: [{ before: ['äbc', Buffer.from([0x61, 0x62, 0x63, 0x20])] }], noForeignKeyChecks: false };
    expect(prepareRowChange(deleted, { flavor: 'mariadb', loadData: false }).statements).toEqual([
      {
        sql:
          "DELETE FROM `shop`.`log` WHERE `s` <=> 'äbc' AND `l` <=> CONVERT(X'61626320' USING latin1)" +
          " AND CAST(`s` AS BINARY) <=> CAST('äbc' AS BINARY) AND CAST(`l` AS BINARY) <=> X'61626320' LIMIT 1",
        expectRows: 1,
      },
    ]);
  });
});
