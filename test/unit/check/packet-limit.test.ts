import { describe, expect, it } from 'vitest';
import { checkLargeValues, checkPacketLimit, checkSelection, type SelectedDatabase } from '../../../src/check/checks.js';
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

describe('checkLargeValues', () => {
  const withLarge = (keyless: boolean): SelectedDatabase[] => [
    {
      database: 'docs',
      exists: true,
      tables: ['files', 'notes'],
      excluded: [],
      unreadable: [],
      large: [{ table: 'files', columns: [{ name: 'body', type: 'longblob', maxBytes: 4294967295 }], keyless }],
    },
  ];
  const none: SelectedDatabase[] = [{ database: 'park', exists: true, tables: ['rides'], excluded: [], unreadable: [] }];

  it('checks nothing without a selection or a side', () => {
    expect(checkLargeValues(undefined, 256 * MiB, 16 * MiB, { ok: true })).toEqual([]);
    expect(checkLargeValues(none, undefined, 16 * MiB, { ok: true })).toEqual([]);
  });

  it('is ok without columns for large values', () => {
    expect(checkLargeValues(none, 256 * MiB, 16 * MiB, { ok: false, message: 'denied' })[0]?.status).toBe('ok');
  });

  it('is ok when the replica takes the largest row', () => {
    const [item] = checkLargeValues(withLarge(false), 256 * MiB, 257 * MiB, { ok: false, message: 'denied' });
    expect(item?.status).toBe('ok');
    expect(item?.detail).toContain('docs.files (body LONGBLOB)');
  });

  it('is ok when the replica takes less but its user may raise the limit', () => {
    const [item] = checkLargeValues(withLarge(false), 256 * MiB, 16 * MiB, { ok: true });
    expect(item?.status).toBe('ok');
    expect(item?.detail).toContain('may raise');
  });

  it('warns, naming the tables and the fix, when the user may not raise it', () => {
    const [item] = checkLargeValues(withLarge(false), 256 * MiB, 16 * MiB, { ok: false, message: 'Access denied; you need (at least one of) the SUPER privilege(s)' });
    expect(item).toEqual({
      name: 'large values',
      status: 'warn',
      detail:
        "1 replicated table(s) may hold values up to 256M (the source's max_allowed_packet): docs.files (body LONGBLOB); the replica takes statements of 16M " +
        'and its user may not raise that (Access denied; you need (at least one of) the SUPER privilege(s)): a larger row stops replication before its transaction is applied',
      fix: "SET GLOBAL max_allowed_packet=269484032; and in the replica's my.cnf [mysqld]: max_allowed_packet=257M",
    });
  });

  it('asks for 1G, as the server\'s own replica takes, for a table without a primary key', () => {
    const [item] = checkLargeValues(withLarge(true), 256 * MiB, 257 * MiB, { ok: false, message: 'denied' });
    expect(item?.status).toBe('warn');
    expect(item?.detail).toContain('no primary key');
    expect(item?.fix).toBe("SET GLOBAL max_allowed_packet=1073741824; and in the replica's my.cnf [mysqld]: max_allowed_packet=1G");
  });

  it('bounds the values by their types when those are smaller than the source\'s limit', () => {
    const medium = withLarge(false);
    medium[0]!.large![0]!.columns = [{ name: 'body', type: 'mediumblob', maxBytes: 16777215 }];
    expect(checkLargeValues(medium, 256 * MiB, 257 * MiB, { ok: true })[0]?.detail).toContain('values up to 16.0 MB (as their types allow)');
  });
});
