// MySQL GTID sets (src/txn/mysql-gtid-set.ts), untagged and tagged (MySQL 8.3+),
// with the sets binlog_transaction_with_GTID_TAG.000001 (MySQL 9.6) holds as its
// origin's tests state them (rust_mysql_common src/binlog/mod.rs): its previous
// GTIDs 55778904-0299-11f1-b1b8-4ef0c4956feb:1-13 and, tagged mytag, :1-2, and
// the transaction mytag:3.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MysqlGtidSet, isMysqlGtid, isMysqlGtidSet } from '../../../src/txn/mysql-gtid-set.js';

const UUID = '55778904-0299-11f1-b1b8-4ef0c4956feb';
const OTHER = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

describe('MysqlGtidSet', () => {
  it("reads and writes the fixture's previous GTIDs as MySQL prints them, and adds its tagged transaction", () => {
    const set = MysqlGtidSet.parse(`${UUID}:1-13:mytag:1-2`);
    expect(set.toString()).toBe(`${UUID}:1-13:mytag:1-2`);
    expect(set.has(`${UUID}:mytag:3`)).toBe(false);
    set.add(`${UUID}:mytag:3`);
    expect(set.toString()).toBe(`${UUID}:1-13:mytag:1-3`);
    expect(set.has(`${UUID}:13`)).toBe(true);
    expect(set.has(`${UUID}:14`)).toBe(false);
  });

  it('orders UUIDs, puts untagged intervals before tags, merges adjacent intervals, takes whitespace and case as @@gtid_executed has them', () => {
    const set = MysqlGtidSet.parse(`${UUID}:zz:5:aa:1-2:3-4,\n${OTHER.toUpperCase()}:1-3:7`);
    set.add(`${OTHER}:4`);
    set.add(`${UUID}:1`);
    expect(set.toString()).toBe(`${OTHER}:1-4:7,${UUID}:1:aa:1-4:zz:5`);
    expect(MysqlGtidSet.parse('').toString()).toBe('');
    expect(MysqlGtidSet.parse('').isEmpty()).toBe(true);
  });

  it('covers a set only when it holds every GTID of it', () => {
    const set = MysqlGtidSet.parse(`${UUID}:1-13:mytag:1-2`);
    expect(set.covers(MysqlGtidSet.parse(`${UUID}:2-13`))).toBe(true);
    expect(set.covers(MysqlGtidSet.parse(`${UUID}:mytag:2`))).toBe(true);
    expect(set.covers(MysqlGtidSet.parse(`${UUID}:mytag:3`))).toBe(false);
    expect(set.covers(MysqlGtidSet.parse(`${OTHER}:1`))).toBe(false);
  });

  it('is the same set whatever the order the GTIDs come in (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('', 'mytag', 'b'), fc.integer({ min: 1, max: 40 })), { maxLength: 60 }), (gtids) => {
        const a = new MysqlGtidSet();
        const b = new MysqlGtidSet();
        const text = (t: string, n: number): string => `${UUID}:${t ? `${t}:` : ''}${n}`;
        for (const [t, n] of gtids) a.add(text(t, n));
        for (const [t, n] of [...gtids].reverse()) b.add(text(t, n));
        expect(a.toString()).toBe(b.toString());
        expect(MysqlGtidSet.parse(a.toString()).toString()).toBe(a.toString());
        for (const [t, n] of gtids) expect(a.has(text(t, n))).toBe(true);
      }),
    );
  });

  it('tells GTIDs and sets from anything else', () => {
    expect(isMysqlGtid(`${UUID}:3`)).toBe(true);
    expect(isMysqlGtid(`${UUID}:mytag:3`)).toBe(true);
    expect(isMysqlGtid(`${UUID}:1-3`)).toBe(false);
    expect(isMysqlGtid(`${UUID}:0`)).toBe(false);
    expect(isMysqlGtid('0-1-42')).toBe(false);
    expect(isMysqlGtidSet(`${UUID}:1-3:mytag:1`)).toBe(true);
    expect(isMysqlGtidSet('0-1-42')).toBe(false);
    expect(isMysqlGtidSet(`${UUID}:5-3`)).toBe(false);
    expect(() => MysqlGtidSet.parse('0-1-42')).toThrow('not a MySQL GTID set: 0-1-42');
  });
});
