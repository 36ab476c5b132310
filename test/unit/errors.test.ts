import { describe, expect, it } from 'vitest';
import {
  ApplyError,
  AuthenticationError,
  BinlogPurgedError,
  ConfigError,
  ConnectionError,
  TransientApplyError,
  UsageError,
  isRetryable,
} from '../../src/errors.js';

describe('errors', () => {
  it.each([
    [new ConnectionError('x'), true],
    [new TransientApplyError('x'), true],
    [new AuthenticationError('x'), false],
    [new ApplyError('x'), false],
    [new BinlogPurgedError('x'), false],
    [new ConfigError('x'), false],
    [Object.assign(new Error('lost'), { code: 'PROTOCOL_CONNECTION_LOST' }), true],
    [Object.assign(new Error('reset'), { code: 'ECONNRESET' }), true],
    [Object.assign(new Error('shutdown'), { errno: 1053 }), true],
    [Object.assign(new Error('deadlock'), { errno: 1213 }), true],
    [Object.assign(new Error('dup'), { errno: 1062 }), false],
    [new Error('plain'), false],
    [null, false],
  ])('%s is retryable: %s', (error, expected) => {
    expect(isRetryable(error)).toBe(expected);
  });

  it('gives usage errors exit class usage and stable codes', () => {
    expect(new UsageError('x')).toMatchObject({ usage: true, code: 'USAGE', name: 'UsageError' });
    expect(new ConfigError('x')).toMatchObject({ usage: true, code: 'CONFIG' });
    expect(new ApplyError('x', { location: { gtid: '0-1-2', file: 'f', position: 4, table: 'd.t', statement: 'insert' } }).location).toEqual({
      gtid: '0-1-2',
      file: 'f',
      position: 4,
      table: 'd.t',
      statement: 'insert',
    });
  });

  it('keeps the cause', () => {
    const cause = new Error('driver');
    expect(new ConnectionError('wrapped', { cause }).cause).toBe(cause);
  });
});
