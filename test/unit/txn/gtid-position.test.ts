import { describe, expect, it } from 'vitest';
import { isMariadbGtid, MariadbGtidState } from '../../../src/txn/gtid-position.js';

describe('MariadbGtidState.parse / toString', () => {
  it.each<[string, string]>([
    ['', ''],
    ['   ', ''],
    ['0-1-5', '0-1-5'],
    ['0-1-5,1-2-3', '0-1-5,1-2-3'],
    [' 1-2-3 , 0-1-5 ', '0-1-5,1-2-3'],
    // sorted by domain as a number, not as text
    ['10-1-1,2-1-1,1-1-1', '1-1-1,2-1-1,10-1-1'],
    // a later entry for the same domain replaces the earlier one
    ['0-1-5,0-2-7', '0-2-7'],
    // 64-bit sequence numbers are kept exactly
    ['0-1-18446744073709551615', '0-1-18446744073709551615'],
    // empty parts between commas are ignored
    ['0-1-5,,1-2-3,', '0-1-5,1-2-3'],
  ])('%j → %j', (text, expected) => {
    expect(MariadbGtidState.parse(text).toString()).toBe(expected);
  });

  it.each(['abc', '0-1', '0-1-5-6', '0-1-x', '-1-1-1', '0-1-5,1-2', `3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5`, '0 1 5'])(
    'rejects %j',
    (text) => {
      expect(() => MariadbGtidState.parse(text)).toThrow(`not a MariaDB GTID position: ${text}`);
    },
  );
});

describe('MariadbGtidState.add', () => {
  it.each<[string, string[], string]>([
    ['replaces the entry of the same domain', ['0-1-6'], '0-1-6,1-2-3'],
    ['replaces it even with another server id', ['0-9-6'], '0-9-6,1-2-3'],
    ['adds a new domain in numeric order', ['2-1-1'], '0-1-5,1-2-3,2-1-1'],
    ['adds a new lower domain in front', ['11-1-1', '3-1-1'], '0-1-5,1-2-3,3-1-1,11-1-1'],
    ['keeps only the latest per domain', ['1-2-4', '1-2-5', '0-1-6'], '0-1-6,1-2-5'],
  ])('%s', (_name, added, expected) => {
    const state = MariadbGtidState.parse('0-1-5,1-2-3');
    for (const gtid of added) state.add(gtid);
    expect(state.toString()).toBe(expected);
  });

  it('fills an empty state', () => {
    const state = MariadbGtidState.parse('');
    state.add('1-2-3');
    state.add('0-1-6');
    expect(state.toString()).toBe('0-1-6,1-2-3');
  });
});

describe('isMariadbGtid', () => {
  it.each<[string, boolean]>([
    ['0-1-5', true],
    ['0-1-5,1-2-3', true],
    ['0-1-5, 1-2-3', true],
    ['  0-1-5  ', true],
    ['0-1-18446744073709551615', true],
    ['', false],
    ['0-1', false],
    ['0-1-5,', false],
    ['0-1-x', false],
    ['3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5', false],
    ['mysql-bin.000001:4', false],
  ])('%j → %s', (text, expected) => {
    expect(isMariadbGtid(text)).toBe(expected);
  });
});
