import { describe, expect, it } from 'vitest';
import { APPLY_SQL_MODE, applySessionStatement, enterDdlContext, leaveDdlContext, statementTimestamp } from '../../../src/apply/session-context.js';

describe('the apply session', () => {
  it('takes invalid dates as the source stored them', () => {
    expect(APPLY_SQL_MODE.split(',')).toContain('ALLOW_INVALID_DATES');
  });

  it.each<[string, Parameters<typeof applySessionStatement>[0], string[], string[]]>([
    [
      'MariaDB 10.11+',
      { flavor: 'mariadb', insertHistory: true, alterHistory: true },
      ['check_constraint_checks = 0', 'system_versioning_insert_history = 1', "system_versioning_alter_history = 'KEEP'"],
      [],
    ],
    ['older MariaDB', { flavor: 'mariadb', insertHistory: false, alterHistory: true }, ['check_constraint_checks = 0', "system_versioning_alter_history = 'KEEP'"], ['system_versioning_insert_history']],
    ['MySQL', { flavor: 'mysql', insertHistory: false }, [], ['check_constraint_checks', 'system_versioning_insert_history', 'system_versioning_alter_history']],
  ])('%s', (_name, features, present, absent) => {
    const sql = applySessionStatement(features);
    for (const s of ["time_zone = '+00:00'", 'autocommit = 0', `sql_mode = '${APPLY_SQL_MODE}'`, ...present]) expect(sql).toContain(s);
    for (const s of absent) expect(sql).not.toContain(s);
  });
});

describe('the context a DDL statement runs in', () => {
  const time = { seconds: 1_700_000_000, microseconds: 1_234 };

  it("is the source's sql_mode, time zone and time, with autocommit on", () => {
    const oracle = (1n << 9n) | (1n << 2n);
    expect(enterDdlContext({ sqlMode: oracle, timeZone: '+05:30', time }, 'mariadb')).toEqual({
      sql: "SET SESSION autocommit = 1, foreign_key_checks = 0, sql_mode = 'ANSI_QUOTES,ORACLE', time_zone = ?, timestamp = 1700000000.001234",
      params: ['+05:30'],
    });
  });

  it('keeps the time zone when the statement did not use one, and the mode when it is unknown', () => {
    expect(enterDdlContext({ sqlMode: undefined, timeZone: undefined, time: { seconds: 5, microseconds: 0 } }, 'mysql')).toEqual({
      sql: 'SET SESSION autocommit = 1, foreign_key_checks = 0, timestamp = 5.000000',
      params: [],
    });
  });

  it.each([
    ['SYSTEM', '+05:30', '+05:30'],
    ['system', '-09:30', '-09:30'],
    ['SYSTEM', undefined, 'SYSTEM'],
    ['Europe/Paris', '+05:30', 'Europe/Paris'],
  ] as const)('runs a DDL logged under time zone %s in the source system zone %s as %s', (logged, sourceZone, applied) => {
    expect(enterDdlContext({ sqlMode: undefined, timeZone: logged, time }, 'mariadb', sourceZone).params).toEqual([applied]);
  });

  it("runs in the source session's character set and collations, by id, as the server's own replica does", () => {
    const charset = { client: 8, connection: 224, server: 33 };
    expect(enterDdlContext({ sqlMode: undefined, timeZone: undefined, time: { seconds: 5, microseconds: 0 }, charset, clientCharset: 'latin1' }, 'mariadb').sql).toBe(
      'SET SESSION autocommit = 1, foreign_key_checks = 0, character_set_client = latin1, collation_connection = 224, collation_server = 33, timestamp = 5.000000',
    );
    // (What is not a name or an id is never put into the statement.)
    const odd = enterDdlContext({ sqlMode: undefined, timeZone: undefined, time: { seconds: 5, microseconds: 0 }, charset: { ...charset, server: 0 }, clientCharset: "x'; DROP" }, 'mariadb').sql;
    expect(odd).not.toContain('character_set');
    expect(odd).not.toContain('collation');
  });

  it('is left for the apply session again', () => {
    expect(leaveDdlContext().sql).toBe(
      `SET SESSION autocommit = 0, sql_mode = _utf8mb4'${APPLY_SQL_MODE}', time_zone = _utf8mb4'+00:00', timestamp = DEFAULT, ` +
        `character_set_client = _utf8mb4'utf8mb4', collation_connection = _utf8mb4'utf8mb4_general_ci', collation_server = DEFAULT`,
    );
  });

  it.each([
    [{ seconds: 0, microseconds: 0 }, '0.000000'],
    [{ seconds: 1_796_173_971, microseconds: 999_999 }, '1796173971.999999'],
    [{ seconds: 1, microseconds: 50 }, '1.000050'],
  ])('statement time %j is %s', (t, expected) => {
    expect(statementTimestamp(t)).toBe(expected);
  });

  it.each([{ seconds: 1, microseconds: 1_000_000 }, { seconds: 1.5, microseconds: 0 }, { seconds: 1, microseconds: -1 }])('refuses %j', (t) => {
    expect(() => statementTimestamp(t)).toThrow(RangeError);
  });
});
