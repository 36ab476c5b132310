import { describe, expect, it } from 'vitest';
import { parseMaskRule, parseMaskRules, ruleFor } from '../../../src/mask/rules.js';
import { columnFit } from '../../../src/mask/column-type.js';
import { ConfigError } from '../../../src/errors.js';

describe('mask rules', () => {
  it('parses DB.TABLE.COLUMN=METHOD, fixed values with any characters', () => {
    const rule = parseMaskRule(' park.visitors.email = email ');
    expect(rule.text).toBe('park.visitors.email=email');
    expect(rule.method).toEqual({ name: 'email' });
    expect(parseMaskRule('park.visitors.notes=fixed:a=b, c').method).toEqual({ name: 'fixed', value: 'a=b, c' });
    expect(parseMaskRule('park.visitors.notes=fixed:').method).toEqual({ name: 'fixed', value: '' });
  });

  it('refuses what is not a rule, with the rule in the message', () => {
    for (const bad of ['park.visitors=email', 'park.visitors.email', 'a.b.c.d=hash', 'park..email=hash', 'park.v.email=md5']) {
      expect(() => parseMaskRule(bad)).toThrow(ConfigError);
      expect(() => parseMaskRule(bad)).toThrow(bad.split('=')[0]!);
    }
  });

  it('* matches any part of a name; columns case-insensitively, databases and tables exactly', () => {
    const rules = parseMaskRules(['*.*.email=email', 'park.*.*_phone=redact']);
    expect(ruleFor(rules, 'park', 'visitors', 'EMAIL')?.method.name).toBe('email');
    expect(ruleFor(rules, 'park', 'staff', 'home_phone')?.method.name).toBe('redact');
    expect(ruleFor(rules, 'Park', 'staff', 'home_phone')).toBeUndefined();
    expect(ruleFor(rules, 'park', 'staff', 'phone')).toBeUndefined();
    expect(ruleFor(parseMaskRules(['park.vis*.email=hash']), 'park', 'visitors', 'email')).toBeDefined();
  });

  it('the rule with fewer wildcards wins; between equals, the first given', () => {
    const rules = parseMaskRules(['*.*.email=email', 'park.staff.email=hash', '*.staff.email=null']);
    expect(ruleFor(rules, 'park', 'staff', 'email')?.method.name).toBe('hash');
    expect(ruleFor(rules, 'other', 'staff', 'email')?.method.name).toBe('null');
    expect(ruleFor(rules, 'other', 'visitors', 'email')?.method.name).toBe('email');
  });
});

describe('column fit', () => {
  it('reads COLUMN_TYPE as information_schema and the binlog spell it', () => {
    expect(columnFit('int(11) unsigned', null)).toEqual({ kind: 'integer', bits: 32, unsigned: true });
    expect(columnFit('int unsigned', null)).toEqual({ kind: 'integer', bits: 32, unsigned: true });
    expect(columnFit('varchar(64)', 'utf8mb4')).toEqual({ kind: 'text', maxChars: 64, fixed: false, charset: 'utf8mb4' });
    expect(columnFit('char(2)', 'latin1')).toEqual({ kind: 'text', maxChars: 2, fixed: true, charset: 'latin1' });
    expect(columnFit('tinytext', 'utf16')).toEqual({ kind: 'text', maxChars: 127, fixed: false, charset: 'utf16' });
    expect(columnFit('varbinary(16)', null)).toEqual({ kind: 'binary', maxBytes: 16, fixed: false });
    expect(columnFit('decimal(10,2)', null)).toEqual({ kind: 'decimal', precision: 10, scale: 2, unsigned: false });
    expect(columnFit('datetime(6)', null)).toEqual({ kind: 'other', type: 'datetime' });
    expect(columnFit('varchar(255) /*M!100301 COMPRESSED*/', 'utf8mb4').kind).toBe('text');
  });
});
