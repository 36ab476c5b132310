import { describe, expect, it } from 'vitest';
import { CHECKPOINT_DATABASE, createFilter, patternToRegExp, type FilterSettings } from '../../../src/txn/filter.js';

function settings(overrides: Partial<FilterSettings> = {}): FilterSettings {
  return { databases: ['app', 'shop'], includeTables: [], excludeTables: [], rewriteDb: {}, ...overrides };
}

describe('patternToRegExp', () => {
  it.each<[string, string, boolean]>([
    // exact names
    ['app.users', 'app.users', true],
    ['app.users', 'app.users2', false],
    ['app.users', 'xapp.users', false],
    // the dot is literal
    ['app.users', 'appxusers', false],
    // * matches any run of characters, including none
    ['app.user*', 'app.users', true],
    ['app.user*', 'app.user', true],
    ['app.user*', 'app.user_archive', true],
    ['app.user*', 'app2.users', false],
    ['*.users', 'any.users', true],
    ['app.*', 'app.anything', true],
    ['app.*', 'shop.anything', false],
    // ? matches exactly one character
    ['app.t?', 'app.t1', true],
    ['app.t?', 'app.t', false],
    ['app.t?', 'app.t12', false],
    // no dot: that table in any database
    ['users', 'app.users', true],
    ['users', 'shop.users', true],
    ['users', 'app.users_old', false],
    ['log_*', 'app.log_2024', true],
    // other regular-expression characters are literal
    ['app.a+b', 'app.a+b', true],
    ['app.a+b', 'app.aab', false],
    ['app.(x)', 'app.(x)', true],
    ['app.[ab]', 'app.a', false],
    ['app.[ab]', 'app.[ab]', true],
    ['app.x$', 'app.x$', true],
    ['app.a|b', 'app.a', false],
    // names with newlines still match as a whole
    ['app.*', 'app.a\nb', true],
  ])('%s against %j → %s', (pattern, name, matches) => {
    expect(patternToRegExp(pattern).test(name)).toBe(matches);
  });
});

describe('createFilter', () => {
  it('replicates only the listed databases', () => {
    const filter = createFilter(settings());
    expect(filter.replicatesDatabase('app')).toBe(true);
    expect(filter.replicatesDatabase('shop')).toBe(true);
    expect(filter.replicatesDatabase('other')).toBe(false);
    // names are compared exactly
    expect(filter.replicatesDatabase('App')).toBe(false);
  });

  it('never replicates the checkpoint database, even when listed', () => {
    expect(CHECKPOINT_DATABASE).toBe('binlog_sync');
    const filter = createFilter(settings({ databases: ['app', 'binlog_sync'], includeTables: ['binlog_sync.*'] }));
    expect(filter.replicatesDatabase('binlog_sync')).toBe(false);
    expect(filter.replicatesTable('binlog_sync', 'position')).toBe(false);
  });

  it('replicates every table of a replicated database when nothing is included or excluded', () => {
    const filter = createFilter(settings());
    expect(filter.replicatesTable('app', 'users')).toBe(true);
    expect(filter.replicatesTable('shop', 'anything')).toBe(true);
    expect(filter.replicatesTable('other', 'users')).toBe(false);
  });

  it.each<[string, Partial<FilterSettings>, Array<[string, string, boolean]>]>([
    [
      'include patterns restrict to the matching tables',
      { includeTables: ['app.users', 'shop.order*'] },
      [
        ['app', 'users', true],
        ['app', 'orders', false],
        ['shop', 'orders', true],
        ['shop', 'order_lines', true],
        ['shop', 'users', false],
      ],
    ],
    [
      'exclude patterns leave out the matching tables',
      { excludeTables: ['app.audit_*', 'tmp?'] },
      [
        ['app', 'users', true],
        ['app', 'audit_log', false],
        ['shop', 'audit_log', true],
        ['app', 'tmp1', false],
        ['shop', 'tmp2', false],
        ['shop', 'tmp', true],
      ],
    ],
    [
      'exclude wins over include',
      { includeTables: ['app.*'], excludeTables: ['app.secret'] },
      [
        ['app', 'users', true],
        ['app', 'secret', false],
        ['shop', 'users', false],
      ],
    ],
    [
      'include patterns never bring in a database that is not replicated',
      { includeTables: ['other.*', 'users'] },
      [
        ['other', 'users', false],
        ['other', 't', false],
        ['app', 'users', true],
        ['app', 't', false],
      ],
    ],
  ])('%s', (_name, overrides, cases) => {
    const filter = createFilter(settings(overrides));
    for (const [db, tbl, expected] of cases) {
      expect([db, tbl, filter.replicatesTable(db, tbl)]).toEqual([db, tbl, expected]);
    }
  });

  it('renames databases listed in rewriteDb and keeps the others', () => {
    const filter = createFilter(settings({ rewriteDb: { shop: 'shop_copy' } }));
    expect(filter.targetDatabase('shop')).toBe('shop_copy');
    expect(filter.targetDatabase('app')).toBe('app');
    expect(filter.targetDatabase('other')).toBe('other');
  });

  it('filters by the source name, not the rewritten one', () => {
    const filter = createFilter(settings({ databases: ['shop'], rewriteDb: { shop: 'shop_copy' }, includeTables: ['shop.orders'] }));
    expect(filter.replicatesTable('shop', 'orders')).toBe(true);
    expect(filter.replicatesTable('shop_copy', 'orders')).toBe(false);
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('keeps a database called %s as it is', (name) => {
    const filter = createFilter({ databases: [name], includeTables: [], excludeTables: [], rewriteDb: {} });
    expect(filter.targetDatabase(name)).toBe(name);
  });
});
