import { describe, expect, it } from 'vitest';
import type { TableDef } from '../../../src/source/events.js';
import { buildLoadData } from '../../../src/sql/load-data.js';

const table: TableDef = {
  database: 'app',
  table: 't',
  columns: [
    { name: 'id', kind: 'plain' },
    { name: 's', kind: 'set' },
    { name: 'c', kind: 'text' },
    { name: 'tm', kind: 'time' },
  ],
  primaryKey: [0],
};
const all = [true, true, true, true];
const rows = Array.from({ length: 60 }, (_, i) => [i, i % 4, i % 2 ? 'x' : Buffer.from('eda080', 'hex'), '-24:00:00']);

describe('buildLoadData', () => {
  it("loads a SET's bits into a variable and sets the column from it as a number (never as a member's name)", () => {
    const load = buildLoadData(table, all, rows)!;
    expect(load.sql).toMatch(/\(`id`, @v1, `c`, `tm`\) SET `s` = CAST\(@v1 AS UNSIGNED\)$/);
    expect(load.load!.toString('latin1').split('\n')[1]).toBe('1\t1\tx\t-24:00:00');
  });

  it('carries text that is not valid UTF-8 as its bytes', () => {
    const load = buildLoadData(table, all, rows)!;
    expect(load.load!.subarray(0, 12)).toEqual(Buffer.concat([Buffer.from('0\t0\t'), Buffer.from('eda080', 'hex'), Buffer.from('\t-24:')]));
  });

  it('names every column itself when none is a SET', () => {
    const load = buildLoadData({ ...table, columns: table.columns.map((c) => (c.kind === 'set' ? { ...c, kind: 'plain' } : c)) }, all, rows)!;
    expect(load.sql).toMatch(/\(`id`, `s`, `c`, `tm`\)$/);
  });
});
