import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnFit } from '../../../src/mask/column-type.js';
import { compileMask, type MaskFunction } from '../../../src/mask/methods.js';

/** The keyed derivation as the RFC states it, through node:crypto's own HMAC. */
const reference = (key: Buffer, label: string, input: Buffer): Buffer => createHmac('sha256', key).update(label).update('\0').update(input).digest();

function mask(method: 'hash' | 'email', type: string, key: Buffer): MaskFunction {
  const compiled = compileMask({ name: method }, columnFit(type, 'utf8mb4'), key);
  if (!compiled.ok) throw new Error(compiled.reason);
  return compiled.apply;
}

// Keys of any length: the HMAC hashes a key longer than its 64-byte block first.
const key = fc.uint8Array({ minLength: 16, maxLength: 100 }).map((b) => Buffer.from(b));

describe('keyed masks are HMAC-SHA256', () => {
  it('hash of text: the first 32 hex digits of HMAC(key, "hash\\0" + bytes)', () => {
    fc.assert(
      fc.property(key, fc.string({ maxLength: 200 }), (k, value) => {
        expect(mask('hash', 'varchar(255)', k)(value)).toBe(reference(k, 'hash', Buffer.from(value, 'utf8')).toString('hex').slice(0, 32));
      }),
    );
  });

  it('hash of a long BINARY: HMAC in counter mode', () => {
    fc.assert(
      fc.property(key, fc.uint8Array({ maxLength: 80 }), (k, value) => {
        const bytes = Buffer.alloc(80);
        Buffer.from(value).copy(bytes);
        const expected = Buffer.concat([0, 1, 2].map((i) => reference(k, `hash#${i}`, bytes))).subarray(0, 80);
        expect(mask('hash', 'binary(80)', k)(bytes)).toEqual(expected);
      }),
    );
  });

  it('email: 16 hex digits of HMAC(key, "email\\0" + the folded address)', () => {
    const k = Buffer.from('0123456789abcdef0123456789abcdef');
    expect(mask('email', 'varchar(64)', k)(' Ann@Example.COM ')).toBe(`${reference(k, 'email', Buffer.from('ann@example.com')).toString('hex').slice(0, 16)}@example.invalid`);
  });
});
