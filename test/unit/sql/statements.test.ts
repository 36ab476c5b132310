import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bitsToDecimal,
  buildDelete,
  buildInsert,
  buildRowChange,
  buildUpdateByKeys,
  buildUpdate,
  type Statement,
} from '../../../src/sql/statements.js';
import { qualifiedName, quoteIdentifier } from '../../../src/sql/identifiers.js';
import type { ColumnDef, ColumnKind, TableDef } from '../../../src/source/events.js';
import type { RowChange } from '../../../src/source/events.js';

function tableDef(columns: Array<string | ColumnDef>, primaryKey: number[], database = 'app', table = 't'): TableDef {
  return {
    database,
    table,
    columns: columns.map((c) => (typeof c === 'string' ? { name: c, kind: 'plain' } : c)),
    primaryKey,
  };
}

const users = tableDef(['id', 'name', 'email'], [0], 'app', 'users');
const noKey = tableDef(['a', 'b'], [], 'app', 'log');
const ALL3 = [true, true, true];

describe('quoteIdentifier / qualifiedName', () => {
  it.each<[string, string]>([
    ['users', '`users`'],
    ['with space', '`with space`'],
    ['a`b', '`a``b`'],
    ['``', '``````'],
    ['', '``'],
    ['Ärger', '`Ärger`'],
    ["x'; DROP TABLE t; --", "`x'; DROP TABLE t; --`"],
  ])('%j → %s', (name, quoted) => {
    expect(quoteIdentifier(name)).toBe(quoted);
  });

  it('quotes both parts of a table name', () => {
    expect(qualifiedName({ database: 'my`db', table: 'we`ird' })).toBe('`my``db`.`we``ird`');
  });
});

describe('bitsToDecimal', () => {
  it.each<[number[], string]>([
    [[], '0'],
    [[0x00], '0'],
    [[0x01], '1'],
    [[0x00, 0x05], '5'],
    [[0x01, 0x00], '256'],
    [[0x80, 0x00, 0x00, 0x00], '2147483648'],
    [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], '18446744073709551615'],
  ])('%j → %s', (bytes, decimal) => {
    expect(bitsToDecimal(Buffer.from(bytes))).toBe(decimal);
  });
});

describe('buildInsert', () => {
  it.each<[string, TableDef, boolean[], unknown[][], Statement]>([
    [
      'one row, every column',
      users,
      ALL3,
      [[1, 'ann', 'a@x']],
      { sql: 'INSERT INTO `app`.`users` (`id`, `name`, `email`) VALUES (?, ?, ?)', params: [1, 'ann', 'a@x'] },
    ],
    [
      'several rows in one statement',
      users,
      ALL3,
      [
        [1, 'ann', 'a@x'],
        [2, 'bob', null],
      ],
      {
        sql: 'INSERT INTO `app`.`users` (`id`, `name`, `email`) VALUES (?, ?, ?), (?, ?, ?)',
        params: [1, 'ann', 'a@x', 2, 'bob', null],
      },
    ],
    [
      'only the columns present in the image',
      users,
      [true, false, true],
      [
        [1, undefined, 'a@x'],
        [2, undefined, 'b@x'],
      ],
      { sql: 'INSERT INTO `app`.`users` (`id`, `email`) VALUES (?, ?), (?, ?)', params: [1, 'a@x', 2, 'b@x'] },
    ],
    [
      'backticks in names are doubled',
      tableDef(['a`b', 'c'], [0], 'my`db', 'we`ird'),
      [true, true],
      [[1, 2]],
      { sql: 'INSERT INTO `my``db`.`we``ird` (`a``b`, `c`) VALUES (?, ?)', params: [1, 2] },
    ],
    [
      'raw-text bytes are re-labelled with the column charset; strings and nulls are not',
      tableDef(['id', { name: 'note', kind: 'raw-text', charset: 'latin1' }], [0]),
      [true, true],
      [
        [1, Buffer.from([0xe9])],
        [2, 'plain'],
        [3, null],
      ],
      {
        sql: 'INSERT INTO `app`.`t` (`id`, `note`) VALUES (?, CONVERT(? USING latin1)), (?, ?), (?, ?)',
        params: [1, Buffer.from([0xe9]), 2, 'plain', 3, null],
      },
    ],
    [
      'bit and geometry values are inserted as their bytes',
      tableDef(['id', { name: 'flags', kind: 'bit' }, { name: 'g', kind: 'geometry' }], [0]),
      [true, true, true],
      [[1, Buffer.from([0x05]), Buffer.from([0, 0, 0, 0, 1])]],
      {
        sql: 'INSERT INTO `app`.`t` (`id`, `flags`, `g`) VALUES (?, ?, ?)',
        params: [1, Buffer.from([0x05]), Buffer.from([0, 0, 0, 0, 1])],
      },
    ],
  ])('%s', (_name, table, present, rows, expected) => {
    const { insertHead, ...statement } = buildInsert(table, present, rows);
    expect(statement).toStrictEqual(expected);
    // What a later INSERT of the same columns may join (see statement-buffer.ts): the text before its tuples.
    expect(insertHead).toBe(expected.sql.slice(0, expected.sql.indexOf(' VALUES ') + ' VALUES '.length));
  });
});

describe('buildUpdate', () => {
  it.each<[string, TableDef, boolean[], boolean[], unknown[], unknown[], Statement]>([
    [
      'by primary key: = and no LIMIT',
      users,
      ALL3,
      ALL3,
      [1, 'ann', 'a@x'],
      [1, 'anne', 'a@x'],
      {
        sql: 'UPDATE `app`.`users` SET `id` = ?, `name` = ?, `email` = ? WHERE `id` = ?',
        params: [1, 'anne', 'a@x', 1],
        expectRows: 1,
      },
    ],
    [
      'by a composite primary key',
      tableDef(['a', 'b', 'v'], [1, 0]),
      ALL3,
      [false, false, true],
      [1, 2, 'x'],
      [undefined, undefined, 'y'],
      { sql: 'UPDATE `app`.`t` SET `v` = ? WHERE `b` = ? AND `a` = ?', params: ['y', 2, 1], expectRows: 1 },
    ],
    [
      'only the after image columns are set',
      users,
      ALL3,
      [false, true, false],
      [1, 'ann', 'a@x'],
      [undefined, 'anne', undefined],
      { sql: 'UPDATE `app`.`users` SET `name` = ? WHERE `id` = ?', params: ['anne', 1], expectRows: 1 },
    ],
    [
      'without a primary key: every before column with <=> and LIMIT 1',
      noKey,
      [true, true],
      [true, true],
      [1, null],
      [1, 'x'],
      { sql: 'UPDATE `app`.`log` SET `a` = ?, `b` = ? WHERE `a` <=> ? AND `b` <=> ? LIMIT 1', params: [1, 'x', 1, null], expectRows: 1 },
    ],
    [
      'primary key absent from the before image: the columns present, with <=> and LIMIT 1',
      users,
      [false, true, true],
      [false, true, false],
      [undefined, 'ann', 'a@x'],
      [undefined, 'anne', undefined],
      {
        sql: 'UPDATE `app`.`users` SET `name` = ? WHERE `name` <=> ? AND `email` <=> ? LIMIT 1',
        params: ['anne', 'ann', 'a@x'],
        expectRows: 1,
      },
    ],
    [
      'part of a composite key absent: full before image',
      tableDef(['a', 'b', 'v'], [0, 1]),
      [true, false, true],
      [false, false, true],
      [1, undefined, 'x'],
      [undefined, undefined, 'y'],
      { sql: 'UPDATE `app`.`t` SET `v` = ? WHERE `a` <=> ? AND `v` <=> ? LIMIT 1', params: ['y', 1, 'x'], expectRows: 1 },
    ],
    [
      'raw-text bytes use CONVERT in SET and WHERE',
      tableDef([{ name: 'note', kind: 'raw-text', charset: 'latin1' }, 'n'], []),
      [true, true],
      [true, false],
      [Buffer.from([0xe9]), 1],
      [Buffer.from([0xea]), undefined],
      {
        sql: 'UPDATE `app`.`t` SET `note` = CONVERT(? USING latin1) WHERE `note` <=> CONVERT(? USING latin1) AND `n` <=> ? LIMIT 1',
        params: [Buffer.from([0xea]), Buffer.from([0xe9]), 1],
        expectRows: 1,
      },
    ],
    [
      "raw-text bytes locate a row under the column's own collation (the character set's default may not mix with it)",
      tableDef([{ name: 'note', kind: 'raw-text', charset: 'cp1250', collation: 'cp1250_czech_cs' }, 'n'], []),
      [true, true],
      [true, false],
      [Buffer.from([0xe9]), 1],
      [Buffer.from([0xea]), undefined],
      {
        sql: 'UPDATE `app`.`t` SET `note` = CONVERT(? USING cp1250) WHERE `note` <=> CONVERT(? USING cp1250) COLLATE cp1250_czech_cs AND `n` <=> ? LIMIT 1',
        params: [Buffer.from([0xea]), Buffer.from([0xe9]), 1],
        expectRows: 1,
      },
    ],
    [
      // CONVERT(? USING latin1) alone is latin1_swedish_ci, as IMPLICIT as the column: "Illegal mix of collations".
      'raw-text bytes of a primary key are compared under the column own collation too (latin1_german2_ci)',
      tableDef([{ name: 'k', kind: 'raw-text', charset: 'latin1', collation: 'latin1_german2_ci' }, 'n'], [0]),
      [true, true],
      [true, true],
      [Buffer.from([0xe4]), 1],
      [Buffer.from([0xe4]), 2],
      {
        sql: 'UPDATE `app`.`t` SET `k` = CONVERT(? USING latin1), `n` = ? WHERE `k` = CONVERT(? USING latin1) COLLATE latin1_german2_ci',
        params: [Buffer.from([0xe4]), 2, Buffer.from([0xe4])],
        expectRows: 1,
      },
    ],
    [
      'bit columns are compared as unsigned numbers, set as bytes',
      tableDef([{ name: 'flags', kind: 'bit' }, 'n'], []),
      [true, true],
      [true, false],
      [Buffer.alloc(8, 0xff), 1],
      [Buffer.from([0x01]), undefined],
      {
        sql: 'UPDATE `app`.`t` SET `flags` = ? WHERE `flags` <=> CAST(? AS UNSIGNED) AND `n` <=> ? LIMIT 1',
        params: [Buffer.from([0x01]), '18446744073709551615', 1],
        expectRows: 1,
      },
    ],
    [
      'a bit primary key uses = with CAST',
      tableDef([{ name: 'k', kind: 'bit' }, 'v'], [0]),
      [true, true],
      [false, true],
      [Buffer.from([0x01, 0x02]), 'a'],
      [undefined, 'b'],
      { sql: 'UPDATE `app`.`t` SET `v` = ? WHERE `k` = CAST(? AS UNSIGNED)', params: ['b', '258'], expectRows: 1 },
    ],
    [
      'a NULL bit value is compared as it is',
      tableDef([{ name: 'flags', kind: 'bit' }], []),
      [true],
      [true],
      [null],
      [Buffer.from([0x01])],
      { sql: 'UPDATE `app`.`t` SET `flags` = ? WHERE `flags` <=> ? LIMIT 1', params: [Buffer.from([0x01]), null], expectRows: 1 },
    ],
    [
      'geometry columns are compared as binary',
      tableDef(['n', { name: 'g', kind: 'geometry' }], []),
      [true, true],
      [true, false],
      [1, Buffer.from([0, 0, 0, 0, 1, 1])],
      [2, undefined],
      {
        sql: 'UPDATE `app`.`t` SET `n` = ? WHERE `n` <=> ? AND CAST(`g` AS BINARY) <=> ? LIMIT 1',
        params: [2, 1, Buffer.from([0, 0, 0, 0, 1, 1])],
        expectRows: 1,
      },
    ],
    [
      'without a primary key: character columns also by their bytes, after every plain comparison',
      tableDef([{ name: 's', kind: 'plain', collated: true }, 'n', { name: 'r', kind: 'raw-text', charset: 'latin1', collated: true }], []),
      [true, true, true],
      [false, true, false],
      ['äbc', 0, Buffer.from([0xe4, 0x62, 0x63, 0x20])],
      [undefined, 1, undefined],
      {
        sql:
          'UPDATE `app`.`t` SET `n` = ? WHERE `s` <=> ? AND `n` <=> ? AND `r` <=> CONVERT(? USING latin1)' +
          ' AND CAST(`s` AS BINARY) <=> CAST(? AS BINARY) AND CAST(`r` AS BINARY) <=> ? LIMIT 1',
        params: [1, 'äbc', 0, Buffer.from([0xe4, 0x62, 0x63, 0x20]), 'äbc', Buffer.from([0xe4, 0x62, 0x63, 0x20])],
        expectRows: 1,
      },
    ],
    [
      'without a primary key: a NULL character value is compared null-safely as bytes too',
      tableDef([{ name: 's', kind: 'plain', collated: true }, { name: 'r', kind: 'raw-text', charset: 'latin1', collated: true }], []),
      [true, true],
      [true, true],
      [null, null],
      ['abc ', null],
      {
        sql:
          'UPDATE `app`.`t` SET `s` = ?, `r` = ? WHERE `s` <=> ? AND `r` <=> ?' +
          ' AND CAST(`s` AS BINARY) <=> CAST(? AS BINARY) AND CAST(`r` AS BINARY) <=> CAST(? AS BINARY) LIMIT 1',
        params: ['abc ', null, null, null, null, null],
        expectRows: 1,
      },
    ],
    [
      'by primary key: a character key is compared under its collation only (unique there), and SET writes its new bytes',
      tableDef([{ name: 'k', kind: 'plain', collated: true }, { name: 's', kind: 'plain', collated: true }], [0]),
      [true, true],
      [true, true],
      ['abc', 'x'],
      ['ABC ', 'x'],
      { sql: 'UPDATE `app`.`t` SET `k` = ?, `s` = ? WHERE `k` = ?', params: ['ABC ', 'x', 'abc'], expectRows: 1 },
    ],
    [
      'primary key absent from the before image: character columns by their bytes too',
      tableDef(['id', { name: 's', kind: 'plain', collated: true }], [0]),
      [false, true],
      [false, true],
      [undefined, 'ABC'],
      [undefined, 'abc'],
      {
        sql: 'UPDATE `app`.`t` SET `s` = ? WHERE `s` <=> ? AND CAST(`s` AS BINARY) <=> CAST(? AS BINARY) LIMIT 1',
        params: ['abc', 'ABC', 'ABC'],
        expectRows: 1,
      },
    ],
  ])('%s', (_name, table, present, presentAfter, before, after, expected) => {
    expect(buildUpdate(table, present, presentAfter, before, after)).toStrictEqual(expected);
  });
});

describe('buildDelete', () => {
  it.each<[string, TableDef, boolean[], unknown[], Statement]>([
    ['by primary key', users, ALL3, [7, 'ann', 'a@x'], { sql: 'DELETE FROM `app`.`users` WHERE `id` = ?', params: [7], expectRows: 1 }],
    [
      'without a primary key',
      noKey,
      [true, true],
      [7, null],
      { sql: 'DELETE FROM `app`.`log` WHERE `a` <=> ? AND `b` <=> ? LIMIT 1', params: [7, null], expectRows: 1 },
    ],
    [
      'primary key absent from the image',
      users,
      [false, true, false],
      [undefined, 'ann', undefined],
      { sql: 'DELETE FROM `app`.`users` WHERE `name` <=> ? LIMIT 1', params: ['ann'], expectRows: 1 },
    ],
    [
      'bit, geometry and raw-text in the WHERE',
      tableDef(
        [
          { name: 'b', kind: 'bit' },
          { name: 'g', kind: 'geometry' },
          { name: 'r', kind: 'raw-text', charset: 'cp1251' },
        ],
        [],
      ),
      [true, true, true],
      [Buffer.from([0x00, 0x10]), Buffer.from([1, 2]), Buffer.from([0xc0])],
      {
        sql: 'DELETE FROM `app`.`t` WHERE `b` <=> CAST(? AS UNSIGNED) AND CAST(`g` AS BINARY) <=> ? AND `r` <=> CONVERT(? USING cp1251) LIMIT 1',
        params: ['16', Buffer.from([1, 2]), Buffer.from([0xc0])],
        expectRows: 1,
      },
    ],
    [
      'without a primary key: character columns also by their bytes (an index on the column still serves the plain comparison)',
      tableDef([{ name: 's', kind: 'plain', collated: true }, 'n'], []),
      [true, true],
      ['abc ', 0],
      {
        sql: 'DELETE FROM `app`.`t` WHERE `s` <=> ? AND `n` <=> ? AND CAST(`s` AS BINARY) <=> CAST(? AS BINARY) LIMIT 1',
        params: ['abc ', 0, 'abc '],
        expectRows: 1,
      },
    ],
    [
      'by primary key: no byte comparison',
      tableDef([{ name: 'k', kind: 'plain', collated: true }, 'n'], [0]),
      [true, true],
      ['äbc', 0],
      { sql: 'DELETE FROM `app`.`t` WHERE `k` = ?', params: ['äbc'], expectRows: 1 },
    ],
  ])('%s', (_name, table, present, before, expected) => {
    expect(buildDelete(table, present, before)).toStrictEqual(expected);
  });
});

describe('buildRowChange', () => {
  function change(overrides: Partial<RowChange> & Pick<RowChange, 'kind' | 'rows'>): RowChange {
    return { table: users, present: ALL3, noForeignKeyChecks: false, ...overrides };
  }

  it('builds one multi-row INSERT for an insert event', () => {
    const statements = buildRowChange(change({ kind: 'insert', rows: [{ after: [1, 'a', 'x'] }, { after: [2, 'b', 'y'] }] }));
    expect(statements).toStrictEqual([
      {
        sql: 'INSERT INTO `app`.`users` (`id`, `name`, `email`) VALUES (?, ?, ?), (?, ?, ?)',
        params: [1, 'a', 'x', 2, 'b', 'y'],
        insertHead: 'INSERT INTO `app`.`users` (`id`, `name`, `email`) VALUES ',
      },
    ]);
  });

  it('builds nothing for an insert event without rows', () => {
    expect(buildRowChange(change({ kind: 'insert', rows: [] }))).toEqual([]);
  });

  it('builds one UPDATE per row, using presentAfter for SET', () => {
    const statements = buildRowChange(
      change({
        kind: 'update',
        presentAfter: [false, true, false],
        rows: [
          { before: [1, 'a', 'x'], after: [undefined, 'aa', undefined] },
          { before: [2, 'b', 'y'], after: [undefined, 'bb', undefined] },
        ],
      }),
    );
    expect(statements).toStrictEqual([
      { sql: 'UPDATE `app`.`users` SET `name` = ? WHERE `id` = ?', params: ['aa', 1], expectRows: 1 },
      { sql: 'UPDATE `app`.`users` SET `name` = ? WHERE `id` = ?', params: ['bb', 2], expectRows: 1 },
    ]);
  });

  it('uses the before image columns for SET when there is no presentAfter', () => {
    const statements = buildRowChange(
      change({ kind: 'update', present: [true, true, false], rows: [{ before: [1, 'a', undefined], after: [1, 'b', undefined] }] }),
    );
    expect(statements).toStrictEqual([
      {
        sql: 'UPDATE `app`.`users` SET `id` = ?, `name` = ? WHERE `id` = ?',
        params: [1, 'b', 1],
        expectRows: 1,
        // What a later UPDATE of the same columns may join (see statement-buffer.ts): the key is kept, so only `name` is set.
        keyList: {
          head: 'UPDATE `app`.`users` AS t JOIN (',
          tail: ') AS v ON t.`id` = v.`k0` SET t.`name` = v.`s0`',
          opening: 'SELECT ? AS `k0`, ? AS `s0`',
          following: 'SELECT ?, ?',
          separator: ' UNION ALL ',
          params: [1, 'b'],
          keys: '[1]',
          rows: 1,
        },
      },
    ]);
  });

  it('builds nothing for an update whose after image has no columns', () => {
    const statements = buildRowChange(
      change({ kind: 'update', presentAfter: [false, false, false], rows: [{ before: [1, 'a', 'x'], after: [] }] }),
    );
    expect(statements).toEqual([]);
  });

  it('builds one DELETE for all rows found by primary key, expecting every one', () => {
    const statements = buildRowChange(change({ kind: 'delete', rows: [{ before: [1, 'a', 'x'] }, { before: [2, 'b', 'y'] }] }));
    const list = { head: 'DELETE FROM `app`.`users` WHERE (`id`) IN (', tail: ')', separator: ', ', keys: '[1]\n[2]', rows: 2 };
    expect(statements).toStrictEqual([{ sql: 'DELETE FROM `app`.`users` WHERE (`id`) IN ((?), (?))', params: [1, 2], expectRows: 2, setBased: true, keyList: list }]);
  });

  it('builds one DELETE per row for a single row, and without a primary key', () => {
    const list = { head: 'DELETE FROM `app`.`users` WHERE (`id`) IN (', tail: ')', opening: '(?)', separator: ', ', keys: '[1]', rows: 1 };
    expect(buildRowChange(change({ kind: 'delete', rows: [{ before: [1, 'a', 'x'] }] }))).toStrictEqual([
      { sql: 'DELETE FROM `app`.`users` WHERE `id` = ?', params: [1], expectRows: 1, keyList: list },
    ]);
    // Careful mode: no list to join.
    expect(buildRowChange(change({ kind: 'delete', rows: [{ before: [1, 'a', 'x'] }] }), { setBased: false, flavor: 'mysql' })).toStrictEqual([
      { sql: 'DELETE FROM `app`.`users` WHERE `id` = ?', params: [1], expectRows: 1 },
    ]);
  });
});

describe('values never appear in the SQL text', () => {
  const MARK = '\u00a7'; // every generated string value carries it; no identifier does
  const kinds: ColumnKind[] = ['plain', 'raw-text', 'geometry', 'timestamp', 'enum', 'bit', 'year'];
  const value = fc.oneof(
    fc.string().map((s) => `${MARK}${s}`),
    fc.constantFrom(`${MARK}'; DROP TABLE t; --`, `${MARK}?`, `${MARK}\`) OR 1=1 -- `),
    fc.uint8Array({ maxLength: 9 }).map((a) => Buffer.from(a)),
    fc.integer(),
    fc.constant(null),
  );
  const shape = fc
    .array(fc.constantFrom(...kinds), { minLength: 1, maxLength: 6 })
    .chain((columnKinds) =>
      fc.record({
        columnKinds: fc.constant(columnKinds),
        primaryKey: fc.subarray(columnKinds.map((_, i) => i)),
        present: fc.array(fc.boolean(), { minLength: columnKinds.length, maxLength: columnKinds.length }),
        presentAfter: fc.array(fc.boolean(), { minLength: columnKinds.length, maxLength: columnKinds.length }),
        before: fc.array(value, { minLength: columnKinds.length, maxLength: columnKinds.length }),
        after: fc.array(value, { minLength: columnKinds.length, maxLength: columnKinds.length }),
      }),
    );

  function check(statement: Statement): void {
    expect(statement.sql).not.toContain(MARK);
    // one placeholder per parameter, and nothing else in the text is a `?`
    expect(statement.sql.split('?').length - 1).toBe(statement.params.length);
  }

  it('only placeholders stand for values, in INSERT, UPDATE and DELETE', () => {
    fc.assert(
      fc.property(shape, (s) => {
        const table = tableDef(
          s.columnKinds.map((kind, i) => ({
            name: `c${i}`,
            kind,
            ...(kind === 'raw-text' ? { charset: 'latin1' } : {}),
            ...(kind === 'raw-text' || (kind === 'plain' && i % 2 === 0) ? { collated: true } : {}),
          })),
          s.primaryKey,
        );
        check(buildInsert(table, s.present, [s.after, s.before]));
        check(buildUpdate(table, s.present, s.presentAfter, s.before, s.after));
        check(buildDelete(table, s.present, s.before));
      }),
    );
  });
});

describe('set-based statements', () => {
  const table: TableDef = {
    database: 'app',
    table: 'users',
    columns: [
      { name: 'id', kind: 'plain' },
      { name: 'name', kind: 'plain' },
      { name: 'pic', kind: 'geometry' },
    ],
    primaryKey: [0],
  };
  const all = [true, true, true];

  it('updates all rows of a key-keeping event in one join, expecting every row to match', () => {
    const st = buildUpdateByKeys(table, all, [true, true, false], [
      { before: [1, 'a', null], after: [1, 'A', null] },
      { before: [2, 'b', null], after: [2, null, null] },
    ]);
    expect(st).toEqual({
      sql: 'UPDATE `app`.`users` AS t JOIN (SELECT ? AS `k0`, ? AS `s0` UNION ALL SELECT ?, ?) AS v ON t.`id` = v.`k0` SET t.`name` = v.`s0`',
      params: [1, 'A', 2, null],
      expectRows: 2,
      setBased: true,
    });
  });

  it('joins a table value constructor on MariaDB (the first row names the columns)', () => {
    const st = buildUpdateByKeys(
      table,
      all,
      [true, true, false],
      [
        { before: [1, 'a', null], after: [1, 'A', null] },
        { before: [2, 'b', null], after: [2, null, null] },
        { before: [3, 'c', null], after: [3, 'C', null] },
      ],
      'mariadb',
    );
    expect(st).toEqual({
      sql: 'UPDATE `app`.`users` AS t JOIN (SELECT ? AS `k0`, ? AS `s0` UNION ALL VALUES (?, ?), (?, ?)) AS v ON t.`id` = v.`k0` SET t.`name` = v.`s0`',
      params: [1, 'A', 2, null, 3, 'C'],
      expectRows: 3,
      setBased: true,
    });
  });

  it.each([
    ['a key changes', [{ before: [1, 'a', null], after: [5, 'a', null] }, { before: [2, 'b', null], after: [2, 'c', null] }], [true, true, false]],
    ['a column needs its own expression', [{ before: [1, 'a', null], after: [1, 'a', Buffer.from('x')] }, { before: [2, 'b', null], after: [2, 'b', null] }], all],
    ['a single row', [{ before: [1, 'a', null], after: [1, 'b', null] }], [true, true, false]],
    [
      // UPDATE t AS a, t AS b SET a.name = ..., b.name = ...: each row once per alias, in one statement.
      'one statement changes a row twice (a table joined with itself)',
      [
        { before: [1, 'a', null], after: [1, 'b', null] },
        { before: [2, 'a', null], after: [2, 'b', null] },
        { before: [1, 'b', null], after: [1, 'c', null] },
      ],
      [true, true, false],
    ],
  ])('falls back to one UPDATE per row when %s', (_why, rows, presentAfter) => {
    expect(buildUpdateByKeys(table, all, presentAfter, rows as Array<{ before: unknown[]; after: unknown[] }>)).toBeUndefined();
  });

  it('uses one statement per row in careful mode', () => {
    const change = {
      kind: 'update' as const,
      table,
      present: all,
      presentAfter: [true, true, false],
      rows: [
        { before: [1, 'a', null], after: [1, 'A', null] },
        { before: [2, 'b', null], after: [2, 'B', null] },
      ],
      noForeignKeyChecks: false,
    };
    expect(buildRowChange(change, { setBased: true, flavor: 'mysql' })).toHaveLength(1);
    expect(buildRowChange(change, { setBased: false, flavor: 'mysql' })).toHaveLength(2);
  });
});

describe('rows located byte-exactly in every path', () => {
  const keyless: TableDef = tableDef([{ name: 's', kind: 'plain', collated: true }, 'n'], []);
  const keyed: TableDef = tableDef([{ name: 'k', kind: 'plain', collated: true }, { name: 's', kind: 'plain', collated: true }], [0]);
  const rows = [{ before: ['abc', 0], after: ['abc', 1] }, { before: ['äbc', 0], after: ['ÄBC', 1] }];
  const exact = 'CAST(`s` AS BINARY) <=> CAST(? AS BINARY) LIMIT 1';

  it.each([
    ['set-based (grouped)', true],
    ['careful', false],
  ])('a keyless table: one statement per row, each by its bytes (%s)', (_mode, setBased) => {
    for (const kind of ['update', 'delete'] as const) {
      const change: RowChange = { kind, table: keyless, present: [true, true], rows, noForeignKeyChecks: false };
      const statements = buildRowChange(change, { setBased, flavor: 'mariadb' });
      expect(statements).toHaveLength(2);
      for (const [i, st] of statements.entries()) {
        expect(st.sql.endsWith(exact)).toBe(true);
        expect(st.params.at(-1)).toBe(rows[i]!.before[0]);
        expect(st.setBased).toBeUndefined();
      }
    }
  });

  it('a key-keeping update by a case-insensitive key joins on the key and sets the other columns to their new bytes', () => {
    const st = buildUpdateByKeys(keyed, [true, true], [true, true], [
      { before: ['abc', 'x'], after: ['abc', 'X '] },
      { before: ['def', 'y'], after: ['def', 'Y'] },
    ]);
    expect(st?.sql).toBe('UPDATE `app`.`t` AS t JOIN (SELECT ? AS `k0`, ? AS `s0` UNION ALL SELECT ?, ?) AS v ON t.`k` = v.`k0` SET t.`s` = v.`s0`');
    expect(st?.params).toEqual(['abc', 'X ', 'def', 'Y']);
  });

  it('a key whose bytes change though its collation calls them equal is not "kept": one UPDATE per row sets it', () => {
    for (const after of ['ABC', 'abc ']) {
      const change: RowChange = {
        kind: 'update',
        table: keyed,
        present: [true, true],
        rows: [
          { before: ['abc', 'x'], after: [after, 'x'] },
          { before: ['def', 'y'], after: ['def', 'z'] },
        ],
        noForeignKeyChecks: false,
      };
      expect(buildUpdateByKeys(keyed, [true, true], [true, true], change.rows)).toBeUndefined();
      const [first] = buildRowChange(change, { setBased: true, flavor: 'mariadb' });
      expect(first).toEqual({ sql: 'UPDATE `app`.`t` SET `k` = ?, `s` = ? WHERE `k` = ?', params: [after, 'x', 'abc'], expectRows: 1 });
    }
  });

  it('a delete by a case-insensitive key lists the keys as the source had them', () => {
    const change: RowChange = { kind: 'delete', table: keyed, present: [true, true], rows: [{ before: ['abc ', 'x'] }, { before: ['ÄBC', 'y'] }], noForeignKeyChecks: false };
    expect(buildRowChange(change, { setBased: true, flavor: 'mariadb' })).toEqual([
      {
        sql: 'DELETE FROM `app`.`t` WHERE (`k`) IN ((?), (?))',
        params: ['abc ', 'ÄBC'],
        expectRows: 2,
        setBased: true,
        keyList: { head: 'DELETE FROM `app`.`t` WHERE (`k`) IN (', tail: ')', separator: ', ', keys: '["abc "]\n["ÄBC"]', rows: 2 },
      },
    ]);
  });
});

describe('statement texts reused per table shape', () => {
  it('gives every row of a repeated shape the same text and its own values', () => {
    const table = tableDef(['id', 'name', 'email'], [0], 'app', 'again');
    const first = buildUpdate(table, ALL3, ALL3, [1, 'a', 'a@x'], [1, 'b', 'b@x']);
    const second = buildUpdate(table, ALL3, ALL3, [2, 'c', 'c@x'], [2, 'd', 'd@x']);
    expect(second.sql).toBe(first.sql);
    expect(first.params).toEqual([1, 'b', 'b@x', 1]);
    expect(second.params).toEqual([2, 'd', 'd@x', 2]);
    // Another shape of the same table gets its own text.
    const partial = buildUpdate(table, ALL3, [false, true, false], [3, 'e', 'e@x'], [3, 'f', 'e@x']);
    expect(partial.sql).toBe('UPDATE `app`.`again` SET `name` = ? WHERE `id` = ?');
    expect(buildDelete(table, ALL3, [4, 'g', 'g@x']).sql).toBe(buildDelete(table, ALL3, [5, 'h', 'h@x']).sql);
    const inserts = [buildInsert(table, ALL3, [[6, 'i', 'i@x']]), buildInsert(table, ALL3, [[7, 'j', 'j@x'], [8, 'k', 'k@x']])];
    expect(inserts.map((s) => s.sql)).toEqual([
      'INSERT INTO `app`.`again` (`id`, `name`, `email`) VALUES (?, ?, ?)',
      'INSERT INTO `app`.`again` (`id`, `name`, `email`) VALUES (?, ?, ?), (?, ?, ?)',
    ]);
  });

  it('builds afresh where the text depends on a value (raw bytes of a latin1 column)', () => {
    const table = tableDef(['id', { name: 'note', kind: 'raw-text', charset: 'latin1' }], [0], 'app', 'latin');
    const withBytes = buildUpdate(table, [true, true], [true, true], [1, Buffer.from('a')], [1, Buffer.from([0xe9])]);
    const withNull = buildUpdate(table, [true, true], [true, true], [1, Buffer.from('a')], [1, null]);
    expect(withBytes.sql).toBe('UPDATE `app`.`latin` SET `id` = ?, `note` = CONVERT(? USING latin1) WHERE `id` = ?');
    expect(withNull.sql).toBe('UPDATE `app`.`latin` SET `id` = ?, `note` = ? WHERE `id` = ?');
    expect(buildInsert(table, [true, true], [[1, Buffer.from([0xe9])], [2, null]]).sql).toBe(
      'INSERT INTO `app`.`latin` (`id`, `note`) VALUES (?, CONVERT(? USING latin1)), (?, ?)',
    );
  });
});
