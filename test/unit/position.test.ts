import { describe, expect, it } from 'vitest';
import { binlogFileNumber, compareFilePositions, formatPosition, type BinlogPosition } from '../../src/position.js';

const pos = (file: string | null, position: number | null, gtid: string | null = null): BinlogPosition => ({ file, position, gtid });

describe('binlogFileNumber', () => {
  it.each<[string, number]>([
    ['mysql-bin.000012', 12],
    ['mariadb-bin.000001', 1],
    ['binlog.1234567', 1234567],
    ['host.with.dots-bin.000003', 3],
  ])('%s → %d', (file, n) => {
    expect(binlogFileNumber(file)).toBe(n);
  });

  it.each(['mysql-bin', 'mysql-bin.', 'mysql-bin.00a1', ''])('%j → NaN', (file) => {
    expect(binlogFileNumber(file)).toBeNaN();
  });
});

describe('compareFilePositions', () => {
  it.each<[string, BinlogPosition, BinlogPosition, 'lt' | 'eq' | 'gt' | null]>([
    ['same file, earlier offset', pos('mysql-bin.000002', 100), pos('mysql-bin.000002', 500), 'lt'],
    ['same file, later offset', pos('mysql-bin.000002', 500), pos('mysql-bin.000002', 100), 'gt'],
    ['same file and offset', pos('mysql-bin.000002', 500), pos('mysql-bin.000002', 500), 'eq'],
    ['same place, different GTIDs', pos('mysql-bin.000002', 500, '0-1-1'), pos('mysql-bin.000002', 500, '0-1-2'), 'eq'],
    ['earlier file, larger offset', pos('mysql-bin.000001', 9000), pos('mysql-bin.000002', 4), 'lt'],
    ['later file, smaller offset', pos('mysql-bin.000010', 4), pos('mysql-bin.000009', 9000), 'gt'],
    ['file numbers compare as numbers', pos('mysql-bin.999999', 4), pos('mysql-bin.1000000', 4), 'lt'],
    ['different base names', pos('mysql-bin.000001', 4), pos('mariadb-bin.000002', 4), null],
    ['a file is missing', pos(null, null, '0-1-5'), pos('mysql-bin.000002', 4), null],
    ['the other file is missing', pos('mysql-bin.000002', 4), pos(null, null), null],
    ['an offset is missing', pos('mysql-bin.000002', null), pos('mysql-bin.000002', 4), null],
    ['both missing', pos(null, null), pos(null, null), null],
  ])('%s', (_name, a, b, expected) => {
    const result = compareFilePositions(a, b);
    if (expected === null) {
      expect(result).toBeNull();
    } else {
      expect(result).not.toBeNull();
      expect(Math.sign(result!)).toBe({ lt: -1, eq: 0, gt: 1 }[expected]);
    }
  });

  it('is antisymmetric', () => {
    const a = pos('mysql-bin.000003', 120);
    const b = pos('mysql-bin.000004', 4);
    expect(Math.sign(compareFilePositions(a, b)!)).toBe(-Math.sign(compareFilePositions(b, a)!));
  });
});

describe('formatPosition', () => {
  it.each<[BinlogPosition, string]>([
    [pos('mysql-bin.000012', 5531, '0-1-8812'), 'mysql-bin.000012:5531 gtid 0-1-8812'],
    [pos('mysql-bin.000012', 5531), 'mysql-bin.000012:5531'],
    [pos(null, null, '0-1-8812,1-2-5'), 'gtid 0-1-8812,1-2-5'],
    [pos('mysql-bin.000012', null), 'mysql-bin.000012:?'],
    [pos(null, null), '(none)'],
    [pos(null, null, ''), '(none)'],
  ])('%j → %s', (p, text) => {
    expect(formatPosition(p)).toBe(text);
  });
});
