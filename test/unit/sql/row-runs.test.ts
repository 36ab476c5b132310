import { describe, expect, it } from 'vitest';
import { RUN_BYTES, RunPreparer } from '../../../src/sql/row-runs.js';
import type { RowImage, RowsData, TableDef } from '../../../src/source/events.js';

const table: TableDef = {
  database: 'park',
  table: 'rides',
  columns: [
    { name: 'id', kind: 'plain' },
    { name: 'name', kind: 'plain' },
  ],
  primaryKey: [0],
};
const other: TableDef = { ...table, table: 'shows' };
const ALL = [true, true];

type Event = RowsData & { bytes: number };

function rows(kind: RowsData['kind'], ids: number[], extra: Partial<Event> = {}): Event {
  const image = (id: number, name: string): RowImage => [id, name];
  return {
    kind,
    table,
    present: ALL,
    rows: ids.map((id) =>
      kind === 'insert' ? { after: image(id, `n${id}`) } : kind === 'delete' ? { before: image(id, `n${id}`) } : { before: image(id, `n${id}`), after: image(id, `m${id}`) },
    ),
    noForeignKeyChecks: false,
    statementEnd: true,
    bytes: 100,
    ...extra,
  };
}

const preparer = (): RunPreparer => new RunPreparer({ flavor: 'mariadb', loadData: false });

describe('RunPreparer', () => {
  it('joins adjacent inserts of one table into one statement carried by the first event', () => {
    const p = preparer();
    const first = p.add(rows('insert', [1, 2]), table);
    const second = p.add(rows('insert', [3]), table);
    p.end();
    expect(first).toEqual({
      statements: [{ sql: "INSERT INTO `park`.`rides` (`id`, `name`) VALUES (1, 'n1'), (2, 'n2'), (3, 'n3')", insertHead: 'INSERT INTO `park`.`rides` (`id`, `name`) VALUES ' }],
      rows: 2,
    });
    expect(second).toEqual({ statements: [], rows: 1 });
  });

  it('joins the events of one update statement, and never updates of two statements (they may change one row)', () => {
    const p = preparer();
    const a = p.add(rows('update', [1, 2], { statementEnd: false }), table);
    const b = p.add(rows('update', [3, 4]), table); // same statement: joined
    const c = p.add(rows('update', [1, 5]), table); // next statement, row 1 again: its own statement
    p.end();
    expect(a.statements).toHaveLength(1);
    expect(a.statements[0]).toMatchObject({ expectRows: 4, setBased: true });
    expect(b.statements).toEqual([]);
    expect(c.statements).toHaveLength(1);
    expect(c.statements[0]).toMatchObject({ expectRows: 2 });
    expect(c.statements[0]!.sql).toContain('VALUES (5, ');
  });

  it('joins adjacent deletes by key, across statements', () => {
    const p = preparer();
    const a = p.add(rows('delete', [1, 2]), table);
    p.add(rows('delete', [3, 4]), table);
    p.end();
    expect(a.statements).toEqual([
      {
        sql: 'DELETE FROM `park`.`rides` WHERE (`id`) IN ((1), (2), (3), (4))',
        expectRows: 4,
        setBased: true,
        keyList: { head: 'DELETE FROM `park`.`rides` WHERE (`id`) IN (', tail: ')', separator: ', ', keys: '[1]\n[2]\n[3]\n[4]', rows: 4 },
      },
    ]);
  });

  it.each<[string, Partial<Event>, TableDef]>([
    ['another table', {}, other],
    ['another kind', { kind: 'delete', rows: [{ before: [9, 'x'] }] }, table],
    ['other columns present', { present: [true, false], rows: [{ after: [9, undefined] }] }, table],
    ['foreign key checks off', { noForeignKeyChecks: true }, table],
    ['a run grown past its size', { bytes: RUN_BYTES }, table],
  ])('starts a new run for %s', (_why, change, target) => {
    const p = preparer();
    const a = p.add(rows('insert', [1]), table);
    const b = p.add({ ...rows('insert', [9]), ...change }, target);
    p.end();
    expect(a.statements).toHaveLength(1);
    expect(b.statements).toHaveLength(1);
  });

  it('builds nothing until the run ends, and nothing twice', () => {
    const p = preparer();
    const a = p.add(rows('insert', [1]), table);
    expect(a.statements).toEqual([]);
    p.end();
    p.end();
    expect(a.statements).toHaveLength(1);
  });
});
