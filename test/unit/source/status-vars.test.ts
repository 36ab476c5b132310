import { describe, expect, it } from 'vitest';
import { noForeignKeyChecks, parseStatusVars, sqlModeNames, type QueryStatus } from '../../../src/source/status-vars.js';

// Status variables as the server writes them, byte by byte.
const Q_FLAGS2_CODE = 0;
const Q_SQL_MODE_CODE = 1;
const Q_CATALOG_CODE = 2;
const Q_AUTO_INCREMENT = 3;
const Q_CHARSET_CODE = 4;
const Q_TIME_ZONE_CODE = 5;
const Q_CATALOG_NZ_CODE = 6;

const OPTION_AUTO_IS_NULL = 1 << 14;
const OPTION_NOT_AUTOCOMMIT = 1 << 19;
const OPTION_NO_FOREIGN_KEY_CHECKS = 1 << 26;

/** MariaDB's default sql_mode. */
const MARIADB_DEFAULT_MODE = 0x54200000n;
/** MySQL 8's default sql_mode; its third byte, 0xa0, is not valid UTF-8 on its own. */
const MYSQL8_DEFAULT_MODE = (1n << 5n) | (1n << 21n) | (1n << 23n) | (1n << 24n) | (1n << 26n) | (1n << 30n);

function u16le(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff];
}

function flags2(value: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return [Q_FLAGS2_CODE, ...b];
}

function sqlMode(value: bigint): number[] {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return [Q_SQL_MODE_CODE, ...b];
}

function catalogNz(name: string): number[] {
  const b = Buffer.from(name, 'latin1');
  return [Q_CATALOG_NZ_CODE, b.length, ...b];
}

function catalog(name: string): number[] {
  const b = Buffer.from(name, 'latin1');
  return [Q_CATALOG_CODE, b.length, ...b, 0];
}

function timeZone(name: string): number[] {
  const b = Buffer.from(name, 'latin1');
  return [Q_TIME_ZONE_CODE, b.length, ...b];
}

function charset(client: number, connection: number, server: number): number[] {
  return [Q_CHARSET_CODE, ...u16le(client), ...u16le(connection), ...u16le(server)];
}

function autoIncrement(increment: number, offset: number): number[] {
  return [Q_AUTO_INCREMENT, ...u16le(increment), ...u16le(offset)];
}

/** The status variables as zongji hands them over: the bytes decoded as UTF-8. */
function statusVars(...parts: number[][]): string {
  return Buffer.from(parts.flat()).toString('utf8');
}

describe('parseStatusVars', () => {
  it.each<[string, string, QueryStatus]>([
    ['nothing', statusVars(), {}],
    ['flags2 alone', statusVars(flags2(OPTION_NO_FOREIGN_KEY_CHECKS)), { flags2: OPTION_NO_FOREIGN_KEY_CHECKS }],
    ['sql_mode alone', statusVars(sqlMode(MARIADB_DEFAULT_MODE)), { sqlMode: MARIADB_DEFAULT_MODE }],
    [
      'a typical MariaDB Query event',
      statusVars(flags2(0), sqlMode(MARIADB_DEFAULT_MODE), catalogNz('std'), charset(33, 33, 8)),
      { flags2: 0, sqlMode: MARIADB_DEFAULT_MODE, charset: { client: 33, connection: 33, server: 8 } },
    ],
    [
      'variables in another order, with catalog, time zone and auto_increment before them',
      statusVars(catalog('std'), timeZone('SYSTEM'), autoIncrement(2, 1), charset(45, 45, 45), sqlMode(4n), flags2(OPTION_AUTO_IS_NULL)),
      { flags2: OPTION_AUTO_IS_NULL, sqlMode: 4n, timeZone: 'SYSTEM', charset: { client: 45, connection: 45, server: 45 } },
    ],
    [
      'a valid UTF-8 sequence inside a value is read back exactly',
      // 0xc3 0xa9 is "é": the decoding is lossless, so the value survives.
      statusVars(flags2(0), sqlMode(0xa9c3n), catalogNz('std')),
      { flags2: 0, sqlMode: 0xa9c3n },
    ],
    [
      'an sql_mode with a byte that is not valid UTF-8 is unknown; flags2 before it is kept',
      statusVars(flags2(OPTION_NO_FOREIGN_KEY_CHECKS), sqlMode(MYSQL8_DEFAULT_MODE)),
      { flags2: OPTION_NO_FOREIGN_KEY_CHECKS },
    ],
    [
      'an invalid byte after sql_mode does not lose it',
      statusVars(flags2(0), sqlMode(MARIADB_DEFAULT_MODE), [Q_CATALOG_NZ_CODE, 3, 0x73, 0x74, 0xff], charset(33, 33, 8)),
      { flags2: 0, sqlMode: MARIADB_DEFAULT_MODE },
    ],
    [
      'an unknown code stops the parse (what follows is not read)',
      statusVars(flags2(OPTION_NO_FOREIGN_KEY_CHECKS), [0x7e, 1, 2, 3], sqlMode(MARIADB_DEFAULT_MODE)),
      { flags2: OPTION_NO_FOREIGN_KEY_CHECKS },
    ],
    [
      'a code byte that is not valid UTF-8 stops the parse',
      statusVars(flags2(0), [0x80], sqlMode(MARIADB_DEFAULT_MODE)),
      { flags2: 0 },
    ],
    ['a truncated sql_mode is left out', statusVars(flags2(0), [Q_SQL_MODE_CODE, 0, 0, 0x20]), { flags2: 0 }],
    ['a truncated flags2 is left out', statusVars([Q_FLAGS2_CODE, 0, 0]), {}],
  ])('%s', (_name, input, expected) => {
    expect(parseStatusVars(input)).toStrictEqual(expected);
  });
});

/** sql_mode bit positions as the server numbers them (sql_mode.h / sql_class.h). */
const MODE_BIT = {
  ANSI_QUOTES: 2,
  NO_BACKSLASH_ESCAPES: 20,
  STRICT_TRANS_TABLES: 21,
  ERROR_FOR_DIVISION_BY_ZERO: 26,
  NO_AUTO_CREATE_USER: 28,
  NO_ENGINE_SUBSTITUTION: 30,
} as const;
type ModeName = keyof typeof MODE_BIT;

/** The sql_mode bitmask with exactly these modes set. */
function modeOf(...names: ModeName[]): bigint {
  return names.reduce((mode, name) => mode | (1n << BigInt(MODE_BIT[name])), 0n);
}

/** The names SET sql_mode takes for a mask made by modeOf: in bit order, comma-separated. */
function namesOf(...names: ModeName[]): string {
  return [...names].sort((a, b) => MODE_BIT[a] - MODE_BIT[b]).join(',');
}

describe('parseStatusVars on malformed variables', () => {
  const FK_OFF = OPTION_NO_FOREIGN_KEY_CHECKS | OPTION_AUTO_IS_NULL;
  const DEFAULT_NAMES: ModeName[] = ['STRICT_TRANS_TABLES', 'ERROR_FOR_DIVISION_BY_ZERO', 'NO_AUTO_CREATE_USER', 'NO_ENGINE_SUBSTITUTION'];
  const ANSI: ModeName[] = ['NO_BACKSLASH_ESCAPES', 'ANSI_QUOTES'];

  // Each input: well-formed variables, then a malformed tail. What precedes the
  // tail is decoded exactly (down to the sql_mode names DDL is parsed with); the
  // tail adds nothing.
  it.each<{ name: string; input: string; flags2?: number; modes?: ModeName[]; timeZone?: string }>([
    {
      name: 'an unknown code',
      input: statusVars(flags2(FK_OFF), sqlMode(modeOf(...DEFAULT_NAMES)), [0x7e]),
      flags2: FK_OFF,
      modes: DEFAULT_NAMES,
    },
    {
      name: 'a lone sql_mode code without its value',
      input: statusVars(timeZone('Asia/Tokyo'), flags2(OPTION_AUTO_IS_NULL), [Q_SQL_MODE_CODE]),
      flags2: OPTION_AUTO_IS_NULL,
      timeZone: 'Asia/Tokyo',
    },
    {
      name: 'a catalog whose length runs past the end',
      input: statusVars(sqlMode(modeOf(...ANSI)), [Q_CATALOG_NZ_CODE, 200, 0x73]),
      modes: ANSI,
    },
    {
      name: 'a time zone code at the very end',
      input: statusVars(catalogNz('std'), sqlMode(modeOf(...ANSI)), flags2(0), [Q_TIME_ZONE_CODE]),
      flags2: 0,
      modes: ANSI,
    },
    {
      name: 'replacement characters where a code should be',
      input: statusVars(flags2(OPTION_NO_FOREIGN_KEY_CHECKS)) + '\ufffd\ufffd',
      flags2: OPTION_NO_FOREIGN_KEY_CHECKS,
    },
    { name: 'replacement characters only', input: '\ufffd\ufffd' },
  ])('reads what precedes $name', ({ input, flags2: wantFlags2, modes, timeZone: wantZone }) => {
    const status = parseStatusVars(input);
    expect(status).toStrictEqual({
      ...(wantFlags2 !== undefined ? { flags2: wantFlags2 } : {}),
      ...(modes ? { sqlMode: modeOf(...modes) } : {}),
      ...(wantZone !== undefined ? { timeZone: wantZone } : {}),
    });
    expect(noForeignKeyChecks(status)).toBe(wantFlags2 === undefined ? undefined : (wantFlags2 & OPTION_NO_FOREIGN_KEY_CHECKS) !== 0);
    if (modes) expect(sqlModeNames(status.sqlMode!, 'mariadb')).toBe(namesOf(...modes));
  });
});

describe('noForeignKeyChecks', () => {
  it.each<[string, QueryStatus, boolean | undefined]>([
    ['OPTION_NO_FOREIGN_KEY_CHECKS set', { flags2: OPTION_NO_FOREIGN_KEY_CHECKS }, true],
    ['with other flags too', { flags2: OPTION_NO_FOREIGN_KEY_CHECKS | OPTION_AUTO_IS_NULL | OPTION_NOT_AUTOCOMMIT }, true],
    ['other flags only', { flags2: OPTION_AUTO_IS_NULL | OPTION_NOT_AUTOCOMMIT }, false],
    ['no flags', { flags2: 0 }, false],
    ['flags2 unknown', {}, undefined],
  ])('%s → %s', (_name, status, expected) => {
    expect(noForeignKeyChecks(status)).toBe(expected);
  });

  it('reads the flag from parsed status variables', () => {
    const parsed = parseStatusVars(statusVars(flags2(OPTION_NO_FOREIGN_KEY_CHECKS | OPTION_AUTO_IS_NULL), sqlMode(MARIADB_DEFAULT_MODE)));
    expect(noForeignKeyChecks(parsed)).toBe(true);
  });
});

describe('sqlModeNames', () => {
  it.each<[string, bigint, 'mariadb' | 'mysql', string]>([
    ['empty mode', 0n, 'mariadb', ''],
    ['MariaDB default', MARIADB_DEFAULT_MODE, 'mariadb', 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION'],
    [
      'MySQL 8 default',
      MYSQL8_DEFAULT_MODE,
      'mysql',
      'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION',
    ],
    ['ANSI_QUOTES', 1n << 2n, 'mysql', 'ANSI_QUOTES'],
    ['bits in server order', (1n << 20n) | (1n << 0n) | (1n << 1n), 'mariadb', 'REAL_AS_FLOAT,PIPES_AS_CONCAT,NO_BACKSLASH_ESCAPES'],
    // composite modes are left out: the server expands them into the bits that are named
    ['composite ANSI and TRADITIONAL', (1n << 18n) | (1n << 27n), 'mariadb', ''],
    ['composite ANSI and TRADITIONAL (mysql)', (1n << 18n) | (1n << 27n), 'mysql', ''],
  ])('%s (%s → %s)', (_name, mode, flavor, expected) => {
    expect(sqlModeNames(mode, flavor)).toBe(expected);
  });

  it("leaves out MariaDB-only names for 'mysql' and keeps them for 'mariadb'", () => {
    const mariadbOnly = ['IGNORE_BAD_TABLE_OPTIONS', 'NO_KEY_OPTIONS', 'NO_TABLE_OPTIONS', 'NO_FIELD_OPTIONS', 'NO_AUTO_CREATE_USER', 'EMPTY_STRING_IS_NULL', 'SIMULTANEOUS_ASSIGNMENT'];
    const bits = [4n, 13n, 14n, 15n, 28n, 32n, 33n];
    const mode = bits.reduce((m, b) => m | (1n << b), 1n << 2n);
    expect(sqlModeNames(mode, 'mariadb')).toBe(['ANSI_QUOTES', ...mariadbOnly].join(','));
    expect(sqlModeNames(mode, 'mysql')).toBe('ANSI_QUOTES');
  });

  it('ignores bits past the known names', () => {
    expect(sqlModeNames((1n << 50n) | (1n << 21n), 'mariadb')).toBe('STRICT_TRANS_TABLES');
  });
});

describe('parseStatusVars after lost bytes', () => {
  it('keeps flags2 and gives up on sql_mode and everything after it when sql_mode held an invalid UTF-8 byte', () => {
    // MySQL 8's default sql_mode has a 0xa0 byte; catalog and charset follow it.
    const bytes = Buffer.from([0, 0, 0, 0, 4, 1, 0x20, 0, 0xa0, 0x45, 0, 0, 0, 0, 6, 3, 0x73, 0x74, 0x64, 4, 0x21, 0, 0x21, 0, 8, 0]);
    const status = parseStatusVars(bytes.toString('utf8'));
    expect(status).toEqual({ flags2: 0x04000000 });
    expect(noForeignKeyChecks(status)).toBe(true);
  });

  it("keeps MariaDB's ORACLE mode, which switches the parser", () => {
    expect(sqlModeNames(1n << 9n, 'mariadb')).toBe('ORACLE');
    expect(sqlModeNames(1n << 9n, 'mysql')).toBe('');
  });
});

/** MariaDB's microseconds of the statement time (Q_HRNOW, code 0x80: never valid UTF-8 on its own). */
function hrnow(micros: number): number[] {
  return [128, micros & 0xff, (micros >> 8) & 0xff, (micros >> 16) & 0xff];
}

/** The sql_mode a MariaDB session has after SET sql_mode=ORACLE (the server expands it; byte 1 is 0xe2). */
const MARIADB_ORACLE_MODE = [1n, 2n, 3n, 9n, 13n, 14n, 15n, 33n].reduce((mode, bit) => mode | (1n << bit), MARIADB_DEFAULT_MODE);

describe('parseStatusVars on the exact bytes', () => {
  const raw = (...parts: number[][]): Buffer => Buffer.from(parts.flat());

  it.each<[string, Buffer, QueryStatus]>([
    [
      "a MariaDB DDL's context: time zone and microseconds",
      raw(flags2(0), sqlMode(MARIADB_DEFAULT_MODE), catalogNz('std'), charset(33, 33, 8), timeZone('+05:30'), hrnow(123_456)),
      { flags2: 0, sqlMode: MARIADB_DEFAULT_MODE, charset: { client: 33, connection: 33, server: 8 }, timeZone: '+05:30', microseconds: 123_456 },
    ],
    [
      'microseconds whose bytes are not valid UTF-8 (999,999 is 0x0f423f)',
      raw(flags2(0), timeZone('SYSTEM'), hrnow(999_999)),
      { flags2: 0, timeZone: 'SYSTEM', microseconds: 999_999 },
    ],
    ['zero microseconds', raw(hrnow(0)), { microseconds: 0 }],
    [
      'the ORACLE sql_mode, whose bytes are not valid UTF-8',
      raw(flags2(0), sqlMode(MARIADB_ORACLE_MODE), catalogNz('std')),
      { flags2: 0, sqlMode: MARIADB_ORACLE_MODE },
    ],
    [
      "MySQL 8's default sql_mode and its microseconds (Q_MICROSECONDS, code 13)",
      raw(flags2(0), sqlMode(MYSQL8_DEFAULT_MODE), catalogNz('std'), timeZone('Europe/Paris'), [13, 0x3f, 0x42, 0x0f]),
      { flags2: 0, sqlMode: MYSQL8_DEFAULT_MODE, timeZone: 'Europe/Paris', microseconds: 999_999 },
    ],
    [
      'the variables MariaDB writes between the time zone and the microseconds',
      raw(timeZone('Asia/Kolkata'), [7, 1, 0], [8, 33, 0], [9, 1, 0, 0, 0, 0, 0, 0, 0], [10, 0, 0, 0, 0], [11, 4, ...Buffer.from('root'), 9, ...Buffer.from('localhost')], hrnow(42)),
      { timeZone: 'Asia/Kolkata', invoker: { user: 'root', host: 'localhost' }, microseconds: 42 },
    ],
    ['an invoker cut short is left out', raw(flags2(0), [11, 4, ...Buffer.from('root'), 9, ...Buffer.from('local')]), { flags2: 0 }],
    ['a cut-short microseconds value is left out', raw(timeZone('UTC'), [128, 1, 2]), { timeZone: 'UTC' }],
    ['a time zone longer than what is left is left out', raw(flags2(0), [5, 20, 0x41]), { flags2: 0 }],
  ])('%s', (_name, input, expected) => {
    expect(parseStatusVars(input)).toStrictEqual(expected);
  });

  it('ORACLE survives as a mode name the replica accepts', () => {
    const status = parseStatusVars(raw(sqlMode(MARIADB_ORACLE_MODE)));
    expect(sqlModeNames(status.sqlMode!, 'mariadb').split(',')).toContain('ORACLE');
  });

  it('the decoded string loses what the bytes keep', () => {
    const bytes = raw(flags2(0), sqlMode(MARIADB_DEFAULT_MODE), timeZone('+05:30'), hrnow(123_456));
    expect(parseStatusVars(bytes.toString('utf8'))).toStrictEqual({ flags2: 0, sqlMode: MARIADB_DEFAULT_MODE, timeZone: '+05:30' });
    expect(parseStatusVars(bytes).microseconds).toBe(123_456);
  });
});
