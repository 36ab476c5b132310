import { describe, expect, it } from 'vitest';
import { checkMasking, type CheckItem } from '../../../src/check/checks.js';
import type { SourceColumn } from '../../../src/mask/plan.js';

const KEY = Buffer.alloc(32, 1);

function column(table: string, name: string, columnType: string, overrides: Partial<SourceColumn> = {}): SourceColumn {
  return {
    database: 'park',
    table,
    name,
    columnType,
    characterSet: /char|text/.test(columnType) ? 'utf8mb4' : null,
    nullable: true,
    unique: false,
    json: false,
    generated: false,
    ...overrides,
  };
}

const COLUMNS: SourceColumn[] = [
  column('rides', 'id', 'int(11)', { nullable: false, unique: true }),
  column('rides', 'name', 'varchar(40)'),
  column('visitors', 'id', 'int(11)', { nullable: false, unique: true }),
  column('visitors', 'name', 'varchar(80)', { nullable: false }),
  column('visitors', 'email', 'varchar(255)', { unique: true }),
  column('visitors', 'email_verified', 'tinyint(1)', { nullable: false }),
  column('visitors', 'phone', 'varchar(20)'),
  column('visitors', 'birth_date', 'date', { nullable: false }),
  column('visitors', 'age', 'int(11)', { nullable: false }),
];

const ALL_MASKED = ['park.visitors.name=redact', 'park.visitors.email=email', 'park.visitors.phone=hash', 'park.visitors.birth_date=fixed:1970-01-01'];

const names = (items: CheckItem[]): string[] => items.map((i) => `${i.status} ${i.name}`);

describe('checkMasking', () => {
  it('says nothing without rules when no column looks personal', () => {
    expect(checkMasking({ columns: [COLUMNS[0]!, COLUMNS[1]!], mask: { rules: [] } })).toEqual([]);
  });

  it('warns once about the personal columns no rule covers, with the ready --mask lines and the key they need', () => {
    expect(checkMasking({ columns: COLUMNS, mask: { rules: [] } })).toEqual([
      {
        name: 'unmasked columns',
        status: 'warn',
        detail:
          '4 replicated column(s) look personal and no --mask rule covers them: park.visitors.name (name), park.visitors.email (email), ' +
          'park.visitors.phone (phone), park.visitors.birth_date (birth date)',
        fix:
          '--mask park.visitors.name=redact --mask park.visitors.email=email --mask park.visitors.phone=hash --mask park.visitors.birth_date=fixed:1970-01-01 ' +
          '(hash and email need the secret key: --mask-key-file FILE (make one with `openssl rand -hex 32 > mask.key`))',
      },
    ]);
  });

  it('is ok, counting what is masked, once the suggested rules are given', () => {
    expect(checkMasking({ columns: COLUMNS, mask: { rules: ALL_MASKED, key: KEY } })).toEqual([
      {
        name: 'masking',
        status: 'ok',
        detail:
          '4 column(s) masked by 4 rule(s), each as its column can take it: park.visitors.name (redact), park.visitors.email (email), ' +
          'park.visitors.phone (hash), park.visitors.birth_date (fixed:1970-01-01)',
      },
    ]);
  });

  it('counts a wildcard rule as covering the columns it matches, and leaves out the key note when the key is given', () => {
    const items = checkMasking({ columns: COLUMNS, mask: { rules: ['*.*.email=email'], key: KEY } });
    expect(names(items)).toEqual(['ok masking', 'warn unmasked columns']);
    expect(items[0]!.detail).toBe('1 column(s) masked by 1 rule(s), each as its column can take it: park.visitors.email (email)');
    expect(items[1]!.fix).toBe('--mask park.visitors.name=redact --mask park.visitors.phone=hash --mask park.visitors.birth_date=fixed:1970-01-01');
  });

  it('fails a rule naming a column the source does not have, with the rule for the column it likely meant', () => {
    const items = checkMasking({ columns: COLUMNS, mask: { rules: [...ALL_MASKED.slice(0, 1), 'park.visitors.emial=email'], key: KEY } });
    expect(items).toEqual([
      {
        name: 'mask park.visitors.emial',
        status: 'fail',
        detail: 'mask rule park.visitors.emial=email: the source has no column park.visitors.emial among the replicated tables',
        fix: '--mask park.visitors.email=email in place of --mask park.visitors.emial=email, if email is the column meant; or drop the rule',
      },
      expect.objectContaining({ name: 'unmasked columns' }),
    ]);
  });

  it('fails a rule naming a column the source does not have, listing the columns of its table', () => {
    const [item] = checkMasking({ columns: COLUMNS, mask: { rules: ['park.visitors.shoe_size=null'] } });
    expect(item).toEqual({
      name: 'mask park.visitors.shoe_size',
      status: 'fail',
      detail: 'mask rule park.visitors.shoe_size=null: the source has no column park.visitors.shoe_size among the replicated tables',
      fix: 'name a column of park.visitors (id, name, email, email_verified, phone and 2 more), or drop the rule',
    });
  });

  it('does not take a column for the one meant when the method could not mask it', () => {
    // `agee` is one edit from `age`, an INT that email cannot mask.
    const [item] = checkMasking({ columns: COLUMNS, mask: { rules: ['park.visitors.agee=email'], key: KEY } });
    expect(item!.fix).toMatch(/^name a column of park\.visitors \(/);
  });

  it('fails a rule naming a table that is not replicated, listing the ones that are', () => {
    const [item] = checkMasking({ columns: COLUMNS, mask: { rules: ['park.guests.email=redact'] } });
    expect(item).toMatchObject({
      name: 'mask park.guests.email',
      status: 'fail',
      fix: 'name a replicated table of park (rides, visitors), or drop the rule; --include-tables and --exclude-tables decide which are replicated',
    });
    const [other] = checkMasking({ columns: COLUMNS, mask: { rules: ['shop.users.email=redact'] } });
    expect(other!.fix).toBe('shop has no replicated table (--databases, --include-tables, --exclude-tables): correct the rule or drop it');
  });

  it.each<[string, string, string, string]>([
    [
      'email on an INT',
      'park.visitors.age=email',
      'mask rule park.visitors.age=email cannot be applied to park.visitors.age (an integer column (32 bits)): email needs a text column (CHAR, VARCHAR, TEXT) or VARBINARY/BLOB, not an integer column',
      '--mask park.visitors.age=hash in place of --mask park.visitors.age=email',
    ],
    [
      'null on NOT NULL',
      'park.visitors.birth_date=null',
      'mask rule park.visitors.birth_date=null: null on a NOT NULL column; use hash, redact or fixed:VALUE (park.visitors.birth_date)',
      '--mask park.visitors.birth_date=fixed:1970-01-01 in place of --mask park.visitors.birth_date=null',
    ],
    [
      'redact on a unique column',
      'park.visitors.email=redact',
      'mask rule park.visitors.email=redact: redact on a unique column would make its rows collide; use hash or email (park.visitors.email)',
      '--mask park.visitors.email=email in place of --mask park.visitors.email=redact',
    ],
  ])('fails %s, with a rule the column takes', (_, rule, detail, fix) => {
    const items = checkMasking({ columns: COLUMNS, mask: { rules: [rule], key: KEY } });
    const [column] = rule.split('=');
    expect(items.find((i) => i.status === 'fail')).toEqual({ name: `mask ${column}`, status: 'fail', detail, fix });
    expect(items.some((i) => i.name === 'masking')).toBe(false);
  });

  it('fixes a wildcard rule that cannot mask one of its columns with a rule naming that column', () => {
    const columns = [...COLUMNS, column('newsletter', 'email', 'char(6)')];
    const items = checkMasking({ columns, mask: { rules: ['*.*.email=email'], key: KEY } });
    expect(items.find((i) => i.status === 'fail')).toMatchObject({
      name: 'mask park.newsletter.email',
      detail: expect.stringContaining('email needs a column of at least 16 characters (this one holds 6)'),
      fix: 'add --mask park.newsletter.email=hash (a rule naming the column wins over *.*.email=email)',
    });
  });

  it('fails a rule on a generated column, pointing at the columns it is made of', () => {
    const columns = [...COLUMNS, column('visitors', 'email_domain', 'varchar(255)', { generated: true })];
    const [item] = checkMasking({ columns, mask: { rules: ['park.visitors.email_domain=redact'] } });
    expect(item).toMatchObject({
      name: 'mask park.visitors.email_domain',
      status: 'fail',
      fix: 'leave park.visitors.email_domain out of the rule and mask the columns it is computed from',
    });
  });

  it('names a personal column that no method can mask, rather than suggest a rule start would refuse', () => {
    const columns = [column('users', 'ip', 'inet6', { nullable: false, unique: true })];
    expect(checkMasking({ columns, mask: { rules: [] } })).toEqual([
      {
        name: 'unmasked columns',
        status: 'warn',
        detail: '1 replicated column(s) look personal and no --mask rule covers them: park.users.ip (ip address)',
        fix: 'no method fits park.users.ip: leave its table out (--exclude-tables)',
      },
    ]);
  });

  it('warns that rules are not held against anything without --databases', () => {
    expect(checkMasking({ mask: { rules: ALL_MASKED, key: KEY } })).toEqual([
      { name: 'masking', status: 'warn', detail: 'the --mask rules are not held against the source without --databases', fix: 'pass --databases db1,db2 (or BINLOG_SYNC_DATABASES)' },
    ]);
    expect(checkMasking({ mask: { rules: [] } })).toEqual([]);
  });
});
