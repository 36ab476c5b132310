import { describe, expect, it } from 'vitest';
import { gtidCovers } from '../../../src/txn/gtid-position.js';

describe('gtidCovers', () => {
  it.each<[string, string, string, boolean]>([
    ['the same position', '0-1-5', '0-1-5', true],
    ['a later sequence number', '0-1-6', '0-1-5', true],
    ['an earlier sequence number', '0-1-4', '0-1-5', false],
    ['sequence numbers compared as numbers, not text', '0-1-10', '0-1-9', true],
    ['… in both directions', '0-1-9', '0-1-10', false],
    ['every domain covered', '0-1-8812,1-2-5', '0-1-8800,1-2-5', true],
    ['one domain behind', '0-1-8812,1-2-4', '0-1-8800,1-2-5', false],
    ['domains in another order', '1-2-5,0-1-8812', '0-1-8812,1-2-5', true],
    ['extra applied domains do not matter', '0-1-5,1-2-3,7-9-1', '0-1-5', true],
    ['a target domain missing from applied', '0-1-5', '0-1-5,1-2-1', false],
    ['a different domain only', '1-1-5', '0-1-5', false],
    // After a failover the server id of a domain changes; the sequence still orders.
    ['server id changed, sequence ahead', '0-2-101', '0-1-100', true],
    ['server id changed, same sequence', '0-2-100', '0-1-100', true],
    ['server id changed, sequence behind', '0-2-99', '0-1-100', false],
    ['spaces after commas', '0-1-5, 1-2-3', '0-1-5,  1-2-3', true],
    ['surrounding whitespace', '  0-1-5  ', ' 0-1-5 ', true],
    ['empty applied', '', '0-1-5', false],
    ['blank applied', '   ', '0-1-5', false],
    ['zero sequence target against empty applied', '', '0-1-0', false],
    ['a zero sequence target', '0-1-0', '0-1-0', true],
  ])('%s: %j covers %j → %j', (_label, applied, target, expected) => {
    expect(gtidCovers(applied, target)).toBe(expected);
  });

  describe('64-bit sequence numbers (beyond 2^53)', () => {
    const MAX = '18446744073709551615'; // 2^64 - 1
    const MAX_MINUS_1 = '18446744073709551614';
    const P53 = '9007199254740993'; // 2^53 + 1: the same double as 2^53
    const P53_0 = '9007199254740992'; // 2^53

    it.each<[string, string, boolean]>([
      [`0-1-${MAX}`, `0-1-${MAX}`, true],
      [`0-1-${MAX}`, `0-1-${MAX_MINUS_1}`, true],
      [`0-1-${MAX_MINUS_1}`, `0-1-${MAX}`, false],
      [`0-1-${P53}`, `0-1-${P53_0}`, true],
      [`0-1-${P53_0}`, `0-1-${P53}`, false],
      [`0-1-5,1-2-${MAX_MINUS_1}`, `0-1-5,1-2-${MAX}`, false],
      [`0-1-5,1-3-${MAX}`, `0-1-5,1-2-${MAX}`, true],
      [`0-1-${P53}`, '0-1-5', true],
      ['0-1-5', `0-1-${P53}`, false],
    ])('%j covers %j → %j', (applied, target, expected) => {
      expect(gtidCovers(applied, target)).toBe(expected);
    });
  });

  it.each<[string, string, string]>([
    ['malformed target', '0-1-5', 'garbage'],
    ['malformed applied', 'garbage', '0-1-5'],
    ['a target entry with too few parts', '0-1-5', '0-1'],
    ['an applied entry with too many parts', '0-1-5-6', '0-1-5'],
    ['a non-numeric sequence', '0-1-x', '0-1-5'],
    ['a negative sequence in the target', '0-1-5', '0-1--5'],
    ['a partly malformed applied list', '0-1-9,1-2', '0-1-5'],
    ['a trailing comma in the target', '0-1-9', '0-1-5,'],
    ['MySQL GTID sets', '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10', '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5'],
    ['a MySQL target against a MariaDB applied position', '0-1-5', '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5'],
  ])('%s → false', (_label, applied, target) => {
    expect(gtidCovers(applied, target)).toBe(false);
  });
});
