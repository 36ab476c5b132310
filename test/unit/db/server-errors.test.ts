import { describe, expect, it } from 'vitest';
import {
  ALREADY_APPLIED_ERRNOS,
  CR_SERVER_GONE_ERROR,
  CR_SERVER_LOST,
  DriverCode,
  ER_CONNECTION_KILLED,
  ER_LOCK_DEADLOCK,
  ER_LOCK_WAIT_TIMEOUT,
  ER_OPTION_PREVENTS_STATEMENT,
  ER_SERVER_SHUTDOWN,
  LOAD_DATA_REFUSED,
  isTransientDriverError,
} from '../../../src/db/server-errors.js';
import { isRetryable } from '../../../src/errors.js';

const withErrno = (errno: number): Error => Object.assign(new Error(`error ${errno}`), { errno });
const withCode = (code: string): Error => Object.assign(new Error(`error ${code}`), { code });

describe('isTransientDriverError', () => {
  it.each([
    [ER_SERVER_SHUTDOWN, 1053],
    [ER_LOCK_WAIT_TIMEOUT, 1205],
    [ER_LOCK_DEADLOCK, 1213],
    [ER_CONNECTION_KILLED, 1927],
    [CR_SERVER_GONE_ERROR, 2006],
    [CR_SERVER_LOST, 2013],
  ])('errno %i is transient', (errno, expected) => {
    expect(errno).toBe(expected);
    expect(isTransientDriverError(withErrno(errno))).toBe(true);
  });

  it.each([
    DriverCode.PROTOCOL_CONNECTION_LOST,
    DriverCode.PROTOCOL_SEQUENCE_TIMEOUT,
    DriverCode.ECONNRESET,
    DriverCode.ECONNREFUSED,
    DriverCode.EPIPE,
    DriverCode.ETIMEDOUT,
    DriverCode.EHOSTUNREACH,
    DriverCode.ENETUNREACH,
  ])('code %s is transient', (code) => {
    expect(isTransientDriverError(withCode(code))).toBe(true);
  });

  it.each([
    "Can't add new command when connection is in closed state",
    'Connection lost: The server closed the connection.',
  ])('mysql2 message %j (no code) is transient', (message) => {
    expect(isTransientDriverError(new Error(message))).toBe(true);
  });

  it.each([
    ['an unknown errno', withErrno(99999)],
    ['a duplicate key (1062)', withErrno(1062)],
    ['a read-only server (1290)', withErrno(ER_OPTION_PREVENTS_STATEMENT)],
    ['a DDL already applied (1050)', withErrno(1050)],
    ['LOAD DATA refused (3948)', withErrno(3948)],
    ['access denied', Object.assign(new Error('Access denied'), { code: DriverCode.ER_ACCESS_DENIED_ERROR, errno: 1045 })],
    ['an unknown host', withCode(DriverCode.ENOTFOUND)],
    ['a TLS refusal', withCode(DriverCode.HANDSHAKE_NO_SSL_SUPPORT)],
    ['an unknown code', withCode('E_SOMETHING_ELSE')],
    ['a plain error', new Error('plain')],
    ['a string', 'connection reset'],
    ['null', null],
    ['undefined', undefined],
  ])('%s is permanent', (_name, error) => {
    expect(isTransientDriverError(error)).toBe(false);
  });

  it('is the rule isRetryable applies to driver errors', () => {
    for (const errno of [1053, 1205, 1213, 1927, 2006, 2013, 1062, 99999]) {
      expect(isRetryable(withErrno(errno))).toBe(isTransientDriverError(withErrno(errno)));
    }
    expect(isRetryable(new Error("Can't add new command when connection is in closed state"))).toBe(true);
    expect(isRetryable(withCode(DriverCode.ECONNREFUSED))).toBe(true);
  });
});

describe('errno lists', () => {
  it('names the errors a re-run DDL gives when it already took effect', () => {
    expect([...ALREADY_APPLIED_ERRNOS].sort((a, b) => a - b)).toEqual([1007, 1008, 1050, 1051, 1054, 1060, 1061, 1091, 1146, 1304, 1305, 1537, 1539]);
  });

  it('names the errors of a refused LOAD DATA LOCAL INFILE', () => {
    expect([...LOAD_DATA_REFUSED].sort((a, b) => a - b)).toEqual([1148, 3948, 4166]);
  });
});
