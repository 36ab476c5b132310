import { describe, expect, it } from 'vitest';
import { fixTime, memberNumber, textOrBytes } from '../../../src/source/row-values.js';

describe('fixTime', () => {
  it('carries the one zongji adds to the seconds of a negative whole second', () => {
    // -24:00:00 is 24 << 12; zongji reads one less (23:63:63) and adds one to the seconds alone.
    expect(fixTime('-23:63:64')).toBe('-24:00:00');
    expect(fixTime('-00:00:64')).toBe('-00:01:00');
    expect(fixTime('-47:63:64')).toBe('-48:00:00');
    expect(fixTime('-837:63:64')).toBe('-838:00:00');
    expect(fixTime('-23:63:64.000')).toBe('-24:00:00.000');
    expect(fixTime('-01:63:64.000000')).toBe('-02:00:00.000000');
  });

  it("does the same for MariaDB's TIME of before 10.0 (decimal HHMMSS), whose seconds 00 always borrow", () => {
    expect(fixTime('-23:99:00', true)).toBe('-24:00:00');
    expect(fixTime('-00:99:00', true)).toBe('-01:00:00');
    expect(fixTime('-00:00:00', true)).toBe('-00:01:00');
    expect(fixTime('-837:99:00', true)).toBe('-838:00:00');
    expect(fixTime('-838:59:59', true)).toBe('-838:59:59');
    expect(fixTime('00:00:00', true)).toBe('00:00:00');
    expect(fixTime('-12:34:56', true)).toBe('-12:34:56');
  });

  it('leaves every other value as it is', () => {
    for (const value of ['-838:59:59', '-00:00:01', '-00:00:01.500', '838:59:59.999999', '00:00:00', '-00:00:00.000001', '-00:59:59']) {
      expect(fixTime(value)).toBe(value);
    }
    expect(fixTime(null)).toBe(null);
  });
});

describe('memberNumber', () => {
  it('keeps numbers, and makes exact decimal strings BigInts', () => {
    expect(memberNumber(0)).toBe(0);
    expect(memberNumber(3)).toBe(3);
    expect(memberNumber('18446744073709551615')).toBe(18446744073709551615n);
    expect(memberNumber(null)).toBe(null);
  });
});

describe('textOrBytes', () => {
  it('makes valid UTF-8 a string', () => {
    expect(textOrBytes(Buffer.from('ünï ☃ 😀', 'utf8'))).toBe('ünï ☃ 😀');
    expect(textOrBytes(Buffer.alloc(0))).toBe('');
    expect(textOrBytes('already text')).toBe('already text');
  });

  it('keeps bytes that are not valid UTF-8 (a surrogate, as MariaDB stores CHAR(55296 USING utf32))', () => {
    const surrogate = Buffer.from('eda080', 'hex');
    expect(textOrBytes(surrogate)).toBe(surrogate);
    const mixed = Buffer.concat([Buffer.from('a'), surrogate]);
    expect(textOrBytes(mixed)).toBe(mixed);
  });
});
