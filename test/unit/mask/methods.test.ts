import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { columnFit } from '../../../src/mask/column-type.js';
import { compileMask, constraintRefusal, EMAIL_MIN_CHARS, HASH_CHARS, permuteInteger, type MaskFunction } from '../../../src/mask/methods.js';
import type { MaskMethod } from '../../../src/mask/rules.js';

const KEY = Buffer.from('unit-test-key-0123456789abcdef');
const OTHER_KEY = Buffer.from('another-key-0123456789abcdef');

function mask(method: MaskMethod, columnType: string, charset: string | null = 'utf8mb4', key: Buffer | undefined = KEY): MaskFunction {
  const compiled = compileMask(method, columnFit(columnType, charset), key);
  if (!compiled.ok) throw new Error(compiled.reason);
  return compiled.apply;
}

function refusal(method: MaskMethod, columnType: string, charset: string | null = 'utf8mb4'): string {
  const compiled = compileMask(method, columnFit(columnType, charset), KEY);
  if (compiled.ok) throw new Error('accepted');
  return compiled.reason;
}

const hash: MaskMethod = { name: 'hash' };
const email: MaskMethod = { name: 'email' };
const redact: MaskMethod = { name: 'redact' };

describe('hash', () => {
  it('is deterministic, keyed, and the same for a text read as a string or as its bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (value) => {
        const m = mask(hash, 'varchar(200)');
        expect(m(value)).toBe(m(value));
        expect(m(Buffer.from(value, 'utf8'))).toBe(m(value));
        expect(mask(hash, 'varchar(200)', 'utf8mb4', OTHER_KEY)(value)).not.toBe(m(value));
      }),
    );
  });

  it('fits text columns: 32 hex characters, fewer where the column is narrower', () => {
    expect(mask(hash, 'varchar(255)')('alice')).toMatch(/^[0-9a-f]{32}$/);
    expect(mask(hash, 'char(10)')('alice')).toMatch(/^[0-9a-f]{10}$/);
    expect(mask(hash, 'tinytext')('alice')).toHaveLength(HASH_CHARS);
    // The same value in columns of 32 characters or more: one output, so joins across them match.
    expect(mask(hash, 'varchar(40)')('alice')).toBe(mask(hash, 'text')('alice'));
  });

  it('keeps distinct inputs apart (no collision among many values in a wide column)', () => {
    const m = mask(hash, 'varchar(64)');
    const outputs = new Set(Array.from({ length: 20_000 }, (_, i) => m(`user${i}@example.org`)));
    expect(outputs.size).toBe(20_000);
  });

  it('a CHAR ignores its trailing spaces, a BINARY its trailing zero bytes (both are padding)', () => {
    expect(mask(hash, 'char(20)')('abc  ')).toBe(mask(hash, 'char(20)')('abc'));
    const binary = mask(hash, 'binary(8)', null);
    expect(binary(Buffer.from('ab'))).toEqual(binary(Buffer.from('ab\0\0\0\0\0\0', 'latin1')));
    expect((binary(Buffer.from('ab')) as Buffer).length).toBe(8);
  });

  it('fits binary columns: the fixed length of a BINARY, 32 bytes at most otherwise', () => {
    expect((mask(hash, 'binary(48)', null)(Buffer.from('x')) as Buffer).length).toBe(48);
    expect((mask(hash, 'varbinary(10)', null)(Buffer.from('x')) as Buffer).length).toBe(10);
    expect((mask(hash, 'longblob', null)(Buffer.from('x')) as Buffer).length).toBe(32);
  });

  it('maps integers one to one into the column type (a unique integer column stays unique)', () => {
    const m = mask(hash, 'smallint(6)');
    const outputs = Array.from({ length: 65536 }, (_, i) => Number(m(i - 32768)));
    expect(Math.min(...outputs)).toBe(-32768);
    expect(Math.max(...outputs)).toBe(32767);
    expect(new Set(outputs).size).toBe(65536);
    const tiny = mask(hash, 'tinyint unsigned');
    expect(new Set(Array.from({ length: 256 }, (_, v) => tiny(v))).size).toBe(256);
  }, 30_000);

  it('keeps BIGINT values exact beyond 2^53, read as numbers, strings or bytes', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
        const m = mask(hash, 'bigint(20) unsigned');
        const out = BigInt(m(v.toString()) as string);
        expect(out >= 0n && out < 1n << 64n).toBe(true);
        expect(m(Buffer.from(v.toString()))).toBe(m(v.toString()));
        expect(permuteInteger(KEY, 64, true, v)).toBe(out);
      }),
    );
    expect(mask(hash, 'int')(42)).toBe(mask(hash, 'int(11)')('42'));
  });

  it('fits DECIMAL(p,s) with its scale, whatever the form the value was read in', () => {
    const m = mask(hash, 'decimal(8,2)');
    const out = String(m('12.50'));
    expect(out).toMatch(/^\d{1,6}\.\d{2}$/);
    expect(m('12.5')).toBe(out);
    expect(m(Buffer.from('012.500'))).toBe(out);
    expect(String(mask(hash, 'decimal(5,0) unsigned')('7'))).toMatch(/^\d{1,5}$/);
  });

  it('keeps NULL, and refuses types it cannot fit', () => {
    expect(mask(hash, 'varchar(10)')(null)).toBeNull();
    expect(refusal(hash, 'date')).toMatch(/hash cannot fit a DATE column/);
    expect(refusal(hash, "enum('a','b')")).toMatch(/ENUM/);
    const keyless = compileMask(hash, columnFit('varchar(10)', 'utf8mb4'), undefined);
    expect(keyless.ok).toBe(false);
  });
});

describe('email', () => {
  it('gives an address at a reserved domain, the same for any letter case and surrounding spaces', () => {
    const m = mask(email, 'varchar(100)');
    const out = String(m('Alice@Example.COM'));
    expect(out).toMatch(/^[0-9a-f]{16}@example\.invalid$/);
    expect(m(' alice@example.com ')).toBe(out);
    expect(m('bob@example.com')).not.toBe(out);
    expect(m('')).toBe('');
    expect(m(null)).toBeNull();
  });

  it('fits narrow columns, and refuses those too narrow or not text', () => {
    for (let width = EMAIL_MIN_CHARS; width <= 40; width++) {
      const out = String(mask(email, `varchar(${width})`)('someone@example.org'));
      expect(out.length).toBeLessThanOrEqual(width);
      expect(out).toMatch(/^[0-9a-f]{6,16}@(example|x)\.invalid$/);
    }
    expect(refusal(email, `varchar(${EMAIL_MIN_CHARS - 1})`)).toMatch(/at least 16 characters/);
    expect(refusal(email, 'int(11)')).toMatch(/email needs a text column/);
    expect(refusal(email, 'binary(20)', null)).toMatch(/BINARY/);
  });
});

describe('redact', () => {
  it('keeps the length in characters (or bytes) and nothing of the content', () => {
    const m = mask(redact, 'varchar(50)');
    expect(m('Zoë Ångström')).toBe('x'.repeat(12));
    expect(m(Buffer.from('Zoë', 'utf8'))).toBe('xxx');
    expect(mask(redact, 'varchar(20)', 'latin1')(Buffer.from([0x63, 0x61, 0x66, 0xe9]))).toBe('xxxx');
    expect(mask(redact, 'varchar(20)', 'utf16')(Buffer.from('abc', 'utf16le'))).toBe('xxx');
    expect(mask(redact, 'varbinary(20)', null)(Buffer.from([0, 1, 2]))).toEqual(Buffer.from('xxx'));
    expect(m(null)).toBeNull();
  });

  it('refuses what has no length to keep, and character sets it cannot count', () => {
    expect(refusal(redact, 'int')).toMatch(/redact keeps a value's length/);
    expect(refusal(redact, 'varchar(10)', 'sjis')).toMatch(/cannot count the characters of sjis/);
  });
});

describe('fixed and null', () => {
  it('fixed fills every row, NULL included; null empties every row', () => {
    const m = mask({ name: 'fixed', value: 'n/a' }, 'varchar(10)');
    expect(m('secret')).toBe('n/a');
    expect(m(null)).toBe('n/a');
    expect(mask({ name: 'null' }, 'varchar(10)')('secret')).toBeNull();
  });

  it('fixed values must fit the column', () => {
    expect(refusal({ name: 'fixed', value: 'too long' }, 'char(3)')).toMatch(/more than the column's 3/);
    expect(refusal({ name: 'fixed', value: '300' }, 'tinyint')).toMatch(/whole number from -128 to 127/);
    expect(refusal({ name: 'fixed', value: '1234.5' }, 'decimal(5,2)')).toMatch(/does not fit DECIMAL\(5,2\)/);
    expect(refusal({ name: 'fixed', value: '{oops' }, 'json')).toMatch(/not a JSON value/);
    expect(compileMask({ name: 'fixed', value: '123.45' }, columnFit('decimal(5,2)', null), KEY).ok).toBe(true);
    expect(compileMask({ name: 'fixed', value: '1970-01-01' }, columnFit('date', null), KEY).ok).toBe(true);
  });

  it('constraints: null on NOT NULL, one value or length on a unique column', () => {
    expect(constraintRefusal({ name: 'null' }, { nullable: false, unique: false })).toMatch(/NOT NULL/);
    expect(constraintRefusal({ name: 'null' }, { nullable: true, unique: true })).toBeUndefined();
    expect(constraintRefusal({ name: 'fixed', value: 'x' }, { nullable: true, unique: true })).toMatch(/collide/);
    expect(constraintRefusal({ name: 'redact' }, { nullable: true, unique: true })).toMatch(/collide/);
    expect(constraintRefusal(hash, { nullable: false, unique: true })).toBeUndefined();
  });
});

describe('hash and the collation', () => {
  it('folds what a case-insensitive, PAD SPACE collation calls equal, and only that', () => {
    const ci = mask(hash, 'varchar(40)', 'utf8mb4');
    const fit = (collation: string, charset = 'utf8mb4'): MaskFunction => {
      const compiled = compileMask(hash, columnFit('varchar(40)', charset, collation), KEY);
      if (!compiled.ok) throw new Error(compiled.reason);
      return compiled.apply;
    };
    const general = fit('utf8mb4_general_ci');
    expect(general('Alice')).toBe(general('alice'));
    expect(general('ALICE  ')).toBe(general('alice'));
    expect(general('Ålice')).not.toBe(general('alice')); // accents are kept
    const bin = fit('utf8mb4_bin');
    expect(bin('Alice')).not.toBe(bin('alice'));
    expect(bin('alice  ')).toBe(bin('alice')); // PAD SPACE
    const nopad = fit('utf8mb4_general_nopad_ci');
    expect(nopad('Alice')).toBe(nopad('alice'));
    expect(nopad('alice ')).not.toBe(nopad('alice'));
    // A latin1 value read as bytes folds like the same text in UTF-8.
    const latin = fit('latin1_swedish_ci', 'latin1');
    expect(latin(Buffer.from([0xc9, 0x76, 0x65]))).toBe(latin(Buffer.from([0xe9, 0x76, 0x65])));
    expect(latin(Buffer.from([0xe9, 0x76, 0x65]))).toBe(general('éve'));
    // Without a collation (a column type alone), the exact value.
    expect(ci('Alice')).not.toBe(ci('alice'));
  });
});
