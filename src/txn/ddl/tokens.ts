// The token lists the parser and the rewrites start from: a Query event holds
// one statement, and only its code tokens (no comments or whitespace) decide
// what it is, while their offsets still point into the original text.
import { codeTokens, isName, isPunct, tokenize, type LexerOptions, type Token } from '../sql-lexer.js';

/** The code tokens of the first statement (a Query event holds one; a trailing `;` is allowed). */
export function statementTokens(sql: string, lexer: LexerOptions = {}): Token[] {
  return tokensBeforeSemicolon(codeTokens(tokenize(sql, lexer)));
}

export function tokensBeforeSemicolon(tokens: Token[]): Token[] {
  const semicolon = tokens.findIndex((t) => isPunct(t, ';'));
  return semicolon === -1 ? tokens : tokens.slice(0, semicolon);
}

/**
 * The database part of every qualified name: a name followed by `.` and a name.
 * In `db.t.col` only `db` counts, and `@@session.x` / `@a.b` are variables.
 */
export function qualifierTokens(tokens: readonly Token[]): Token[] {
  const result: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!isName(token) || !isPunct(tokens[i + 1], '.') || !isName(tokens[i + 2])) continue;
    const before = tokens[i - 1];
    if (isPunct(before, '.') || isPunct(before, '@')) continue;
    result.push(token);
  }
  return result;
}
