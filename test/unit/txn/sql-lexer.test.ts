import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeTokens, tokenize, type Token } from '../../../src/txn/sql-lexer.js';
import { quoteIdentifier } from '../../../src/sql/identifiers.js';

/** `kind:text` per token, which reads well in a table. */
function kinds(sql: string): string[] {
  return tokenize(sql).map((t) => `${t.kind}:${t.text}`);
}

describe('tokenize', () => {
  it.each<[string, string, string[]]>([
    ['bare words and punctuation', 'ALTER TABLE db.t ADD (x INT);', [
      'identifier:ALTER', 'identifier:TABLE', 'identifier:db', 'punct:.', 'identifier:t', 'identifier:ADD',
      'punct:(', 'identifier:x', 'identifier:INT', 'punct:)', 'punct:;',
    ]],
    ['non-ASCII, $ and _ in names', 'café Ärger $x_1', ['identifier:café', 'identifier:Ärger', 'identifier:$x_1']],
    ['backtick names with doubled backticks and spaces', '`we``ird` `a b`', ['quoted:`we``ird`', 'quoted:`a b`']],
    ['strings in both quotes', `'it''s' "say \\"hi\\""`, [`string:'it''s'`, 'string:"say \\"hi\\""']],
    ['numbers', '1 1.5 .5 1e5 1.5e-3 0x1F 0b01', [
      'number:1', 'number:1.5', 'number:.5', 'number:1e5', 'number:1.5e-3', 'number:0x1F', 'number:0b01',
    ]],
    ['digit-led names', '1st_table', ['identifier:1st_table']],
    ['any word after name. is a name', 'db.1e5 db.5x', [
      'identifier:db', 'punct:.', 'identifier:1e5', 'identifier:db', 'punct:.', 'identifier:5x',
    ]],
    ['line comments', 'a -- note\nb # more\nc', ['identifier:a', 'comment:-- note', 'identifier:b', 'comment:# more', 'identifier:c']],
    ['-- needs a space to start a comment', '1--1', ['number:1', 'punct:-', 'punct:-', 'number:1']],
    ['block comments', 'a/* x */b', ['identifier:a', 'comment:/* x */', 'identifier:b']],
    ['executable comments hold code', 'CREATE /*!50001 VIEW v */ /*M!100100 x*/', [
      'identifier:CREATE', 'comment:/*!50001', 'identifier:VIEW', 'identifier:v', 'comment:*/',
      'comment:/*M!100100', 'identifier:x', 'comment:*/',
    ]],
    ['a plain comment inside an executable one', '/*! a /* b */ c */', [
      'comment:/*!', 'identifier:a', 'comment:/* b */', 'identifier:c', 'comment:*/',
    ]],
    ['`*/` outside an executable comment is punctuation', 'a */', ['identifier:a', 'punct:*', 'punct:/']],
    ['user and system variables', '@a @@session.x', ['punct:@', 'identifier:a', 'punct:@', 'punct:@', 'identifier:session', 'punct:.', 'identifier:x']],
  ])('%s', (_name, sql, expected) => {
    expect(kinds(sql)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['an unterminated string', "SELECT 'abc"],
    ['an unterminated backtick name', 'DROP TABLE `abc'],
    ['an unterminated comment', 'DROP /* abc'],
    ['an unterminated executable comment', 'DROP /*!50001 TABLE t'],
    ['a trailing backslash in a string', "SELECT 'abc\\"],
    ['a lone dash', '-'],
  ])('runs %s to the end without throwing', (_name, sql) => {
    const tokens = tokenize(sql);
    expect(tokens.at(-1)!.end).toBe(sql.length);
  });

  it('keeps exact offsets: every token text is the source slice', () => {
    const sql = "CREATE TABLE `a``b`.c /* x */ (d VARCHAR(3) DEFAULT 'x.y', e INT) -- end";
    for (const token of tokenize(sql)) expect(sql.slice(token.start, token.end)).toBe(token.text);
  });

  it.each<[string, Partial<Token>]>([
    ['`we``ird`', { kind: 'quoted', value: 'we`ird' }],
    ['`a b`', { kind: 'quoted', value: 'a b' }],
    ["'it''s'", { kind: 'string', value: "it's" }],
    ["'a\\nb\\\\c\\'d'", { kind: 'string', value: "a\nb\\c'd" }],
    ['Ärger', { kind: 'identifier', value: 'Ärger' }],
  ])('gives %s the value it stands for', (sql, expected) => {
    expect(tokenize(sql)[0]).toMatchObject(expected);
  });

  it('honours NO_BACKSLASH_ESCAPES and ANSI_QUOTES when asked', () => {
    expect(kinds("'C:\\' x")).toEqual(["string:'C:\\' x"]);
    expect(tokenize("'C:\\' x", { backslashEscapes: false }).map((t) => t.value)).toEqual(['C:\\', 'x']);
    expect(tokenize('"a""b"', { ansiQuotes: true })[0]).toMatchObject({ kind: 'quoted', value: 'a"b' });
  });

  it('reads [name] as a name under MariaDB MSSQL mode, and as punctuation otherwise', () => {
    expect(tokenize('CREATE TABLE [t 1] ([a b] INT)', { bracketQuotes: true }).map((t) => `${t.kind}:${t.value}`)).toEqual([
      'identifier:CREATE',
      'identifier:TABLE',
      'quoted:t 1',
      'punct:(',
      'quoted:a b',
      'identifier:INT',
      'punct:)',
    ]);
    expect(tokenize('[t]')[0]).toMatchObject({ kind: 'punct', value: '[' });
    expect(tokenize('[open', { bracketQuotes: true })[0]).toMatchObject({ kind: 'quoted', value: 'open' });
  });

  it('never throws, and its tokens are ordered, disjoint source slices', () => {
    // Biased towards the characters that change the lexer's state.
    const char = fc.constantFrom(...'`\'"\\/*!M#-.,;() \n\taé1e5x');
    fc.assert(
      fc.property(fc.array(char).map((cs) => cs.join('')), (sql) => {
        let previousEnd = 0;
        for (const token of tokenize(sql)) {
          expect(token.start).toBeGreaterThanOrEqual(previousEnd);
          expect(token.end).toBeGreaterThan(token.start);
          expect(sql.slice(token.start, token.end)).toBe(token.text);
          previousEnd = token.end;
        }
        expect(sql.slice(previousEnd).trim()).toBe('');
      }),
    );
  });

  it('codeTokens drops comments and executable-comment markers', () => {
    expect(codeTokens(tokenize('a /* b */ /*!c*/ -- d')).map((t) => t.text)).toEqual(['a', 'c']);
  });
});

describe('quoteIdentifier', () => {
  it('wraps in backticks and doubles backticks inside', () => {
    expect(quoteIdentifier('we`ird')).toBe('`we``ird`');
    expect(quoteIdentifier('café')).toBe('`café`');
  });
});
