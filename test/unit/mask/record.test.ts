import { describe, expect, it } from 'vitest';
import { assertSameMasking, maskingRecord, parseRecord, serializeRecord } from '../../../src/mask/record.js';
import { keyFingerprint } from '../../../src/mask/key.js';
import { MaskError } from '../../../src/errors.js';
import { Masker } from '../../../src/mask/masker.js';

const key = Buffer.from('a-secret-key-of-some-length');

describe('the masking record', () => {
  it('holds the rules in the order they apply and a fingerprint that is not the key', () => {
    const record = maskingRecord({ rules: ['*.*.email=email', 'p.v.name=redact'], key })!;
    expect(record.rules).toEqual(['p.v.name=redact', '*.*.email=email']);
    expect(record.key).toBe(keyFingerprint(key));
    expect(record.key).toMatch(/^[0-9a-f]{16}$/);
    expect(serializeRecord(record)).not.toContain(key.toString());
    expect(parseRecord(serializeRecord(record))).toEqual(record);
    // No keyed method: the key does not matter.
    expect(maskingRecord({ rules: ['p.v.name=redact'], key })!.key).toBeNull();
    expect(maskingRecord({ rules: [] })).toBeNull();
  });

  it('refuses other rules, another key, or masking where there was none (and the reverse)', () => {
    const seeded = maskingRecord({ rules: ['p.v.email=hash'], key });
    expect(() => assertSameMasking(seeded, maskingRecord({ rules: ['p.v.email=hash'], key }))).not.toThrow();
    expect(() => assertSameMasking(seeded, maskingRecord({ rules: ['p.v.email=email'], key }))).toThrow(/other masking.*snapshot --drop-existing/);
    expect(() => assertSameMasking(seeded, maskingRecord({ rules: ['p.v.email=hash'], key: Buffer.from('another-key-0123456') }))).toThrow(
      /another mask key/,
    );
    expect(() => assertSameMasking(seeded, null)).toThrow(MaskError);
    expect(() => assertSameMasking(null, seeded)).toThrow(/replica: no masking/);
    expect(() => assertSameMasking(null, null)).not.toThrow();
  });
});

describe('Masker', () => {
  it('masks row images in place, leaving absent columns absent and unmasked columns as they are', () => {
    const masker = new Masker({ rules: ['p.v.email=email', 'p.v.notes=fixed:-'], key });
    const table = {
      database: 'p',
      table: 'v',
      primaryKey: [0],
      columns: [
        { name: 'id', kind: 'plain' as const, sqlType: 'int(11)' },
        { name: 'email', kind: 'plain' as const, sqlType: 'varchar(64)', characterSet: 'utf8mb4' },
        { name: 'notes', kind: 'plain' as const, sqlType: 'text', characterSet: 'utf8mb4' },
      ],
    };
    const rows = [{ before: [1, 'A@b.c', undefined], after: [1, 'x@y.z', null] }];
    masker.maskRows(table, rows);
    expect(rows[0]!.before[0]).toBe(1);
    expect(rows[0]!.before[1]).toMatch(/@example\.invalid$/);
    expect(rows[0]!.before[2]).toBeUndefined();
    expect(rows[0]!.after[2]).toBe('-');
    expect(masker.masksOf({ ...table, table: 'other' })).toBeNull();
  });

  it('refuses a column it cannot fit, naming the rule and the column', () => {
    const masker = new Masker({ rules: ['p.v.id=email'], key });
    const table = { database: 'p', table: 'v', primaryKey: [0], columns: [{ name: 'id', kind: 'plain' as const, sqlType: 'int' }] };
    expect(() => masker.maskRows(table, [{ after: [1] }])).toThrow(/mask rule p\.v\.id=email cannot be applied to p\.v\.id/);
  });
});
