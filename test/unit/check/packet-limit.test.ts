import { describe, expect, it } from 'vitest';
import { checkPacketLimit, checkSelection } from '../../../src/check/checks.js';
import { describeBytes, packetLimitFix, roundedLimit } from '../../../src/db/packet-limit.js';

const MiB = 1024 * 1024;
const USER = "'repl_user'@'%'";

describe('checkPacketLimit', () => {
  it('is ok when the replica takes what the source accepts', () => {
    expect(checkPacketLimit(16 * MiB, 64 * MiB)).toEqual({
      name: 'max_allowed_packet',
      status: 'ok',
      detail: 'replica 64M takes every row the source accepts (16M)',
    });
  });

  it('warns with the SET GLOBAL and my.cnf fix when the replica takes less', () => {
    const item = checkPacketLimit(256 * MiB, 16 * MiB);
    expect(item.status).toBe('warn');
    expect(item.detail).toContain('16M');
    expect(item.detail).toContain('256M');
    // As much as `start` raises it to: the source's rows with room for the statement around them.
    expect(item.fix).toBe("SET GLOBAL max_allowed_packet=269484032; and in the replica's my.cnf [mysqld]: max_allowed_packet=257M");
  });

  it('says so when a side was not reached', () => {
    expect(checkPacketLimit(undefined, 16 * MiB).status).toBe('ok');
  });
});

describe('packet limit words', () => {
  it.each([
    [16 * MiB, '16M'],
    [1024 * MiB, '1G'],
    [1_500_000, '1.4 MB'],
    [1000, '1000 bytes'],
  ])('describeBytes(%d) = %s', (bytes, text) => expect(describeBytes(bytes)).toBe(text));

  it('rounds a row size up to whole MiB, never past 1G', () => {
    expect(roundedLimit(30 * MiB + 1)).toBe(31 * MiB);
    expect(roundedLimit(2000 * MiB)).toBe(1024 * MiB);
    expect(packetLimitFix(31 * MiB)).toContain('max_allowed_packet=31M');
  });
});

describe('checkSelection', () => {
  it('checks nothing without a selection', () => {
    expect(checkSelection(undefined, USER)).toEqual([]);
  });

  it('names the replicated and the left-out tables', () => {
    const [item] = checkSelection([{ database: 'park', exists: true, tables: ['rides'], excluded: ['audit'], unreadable: [] }], USER);
    expect(item).toEqual({
      name: 'database park',
      status: 'ok',
      detail: `1 table(s) replicated: rides; left out by --include-tables/--exclude-tables: audit; ${USER} may read them`,
    });
  });

  it('fails with the GRANT when the source user may not read a table', () => {
    const [item] = checkSelection([{ database: 'park', exists: true, tables: ['rides'], excluded: [], unreadable: [{ table: 'rides', message: 'SELECT command denied' }] }], USER);
    expect(item?.status).toBe('fail');
    expect(item?.fix).toBe(`GRANT SELECT ON \`park\`.* TO ${USER};`);
  });

  it('warns about a database the source does not have', () => {
    const [item] = checkSelection([{ database: 'nope', exists: false, tables: [], excluded: [], unreadable: [] }], USER);
    expect(item?.status).toBe('warn');
  });
});
