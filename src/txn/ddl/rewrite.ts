// Rewrites of a DDL statement for the replica (--rewrite-db, table filters,
// --definer, events disabled). Each splices new text over the exact source
// offsets of the tokens it changes, so comments, strings, whitespace and case
// stay as the source wrote them.
import { quoteIdentifier } from '../../sql/identifiers.js';
import { codeTokens, tokenize, type LexerOptions } from '../sql-lexer.js';
import type { NameRef } from './cursor.js';
import { parseStatement } from './parse.js';
import type { ResolvedTable, StatementInfo } from './statement-info.js';
import { qualifierTokens, statementTokens, tokensBeforeSemicolon } from './tokens.js';

/**
 * Returns `sql` with every database name that `rename` maps to something else
 * replaced by the new name in backticks: the first part of each qualified name
 * (`db.table`, anywhere in the statement, including inside executable
 * comments) and the name in CREATE/DROP/ALTER DATABASE. Unqualified names are
 * left alone: they follow the session's default database.
 */
export function rewriteDatabases(sql: string, rename: (database: string) => string, lexer: LexerOptions = {}): string {
  const tokens = codeTokens(tokenize(sql, lexer));
  const databaseTokens = qualifierTokens(tokens);
  const parsed = parseStatement(tokensBeforeSemicolon(tokens));
  // A database name is never followed by `.`, so it is not in the list already.
  if (parsed.kind === 'database' && parsed.name) databaseTokens.push(parsed.name);

  const edits = databaseTokens
    .map((token) => ({ start: token.start, end: token.end, renamed: rename(token.value), value: token.value }))
    .filter(({ renamed, value }) => renamed !== value)
    .map(({ start, end, renamed }) => ({ start, end, text: quoteIdentifier(renamed) }));
  return applyEdits(sql, edits);
}

/** `sql` with each edit's range replaced by its text (the ranges do not overlap). */
function applyEdits(sql: string, edits: Array<{ start: number; end: number; text: string }>): string {
  // Spliced from the end, so earlier offsets stay valid.
  let result = sql;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
  return result;
}

/**
 * Narrows a statement to the tables `keep` accepts. A DROP TABLE naming several
 * tables is rewritten to name only the kept ones (its IF EXISTS, TEMPORARY and
 * trailing options and comments stay); any other statement is returned as is
 * when all its tables are kept (vacuously so for statements without tables)
 * and dropped otherwise. undefined means "nothing left to apply".
 */
export function restrictToTables(
  sql: string,
  info: StatementInfo,
  keep: (t: ResolvedTable) => boolean,
  lexer: LexerOptions = {},
): string | undefined {
  if (info.kind !== 'ddl' || info.scope !== 'table') return sql;
  const kept = info.tables.map(keep);
  if (kept.every(Boolean)) return sql;
  if (!kept.some(Boolean) || (info.verb !== 'DROP TABLE' && info.verb !== 'DROP VIEW')) return undefined;

  const parsed = parseStatement(statementTokens(sql, lexer));
  // The names are re-read from `sql` and paired with `info` by position; if
  // they do not line up, `info` describes some other statement.
  if (parsed.kind !== 'table' || parsed.names.length !== kept.length) return undefined;
  const names = parsed.names;
  const first = names[0]!;
  const last = names.at(-1)!;
  const separator = listSeparator(sql, names);
  const list = names.filter((_, i) => kept[i]).map((n) => sql.slice(n.start, n.end));
  return sql.slice(0, first.start) + list.join(separator) + sql.slice(last.end);
}

/**
 * CREATE TABLE `sql` with the table named at `part` (the created one, or the
 * source of its LIKE) replaced by `database`.`table`; undefined when `sql` is
 * not a CREATE TABLE with that part. Everything else is kept byte for byte.
 */
export function replaceCreateTableName(
  sql: string,
  part: 'created' | 'like',
  target: { database: string; table: string },
  lexer: LexerOptions = {},
): string | undefined {
  const parsed = parseStatement(statementTokens(sql, lexer));
  if (parsed.kind !== 'table' || parsed.verb !== 'CREATE TABLE') return undefined;
  const name = part === 'created' ? parsed.names[0] : parsed.like;
  if (!name) return undefined;
  return sql.slice(0, name.start) + `${quoteIdentifier(target.database)}.${quoteIdentifier(target.table)}` + sql.slice(name.end);
}

export interface ObjectRewrite {
  /** `'user'@'host'` to put as DEFINER (--definer); undefined keeps the source's. */
  definer?: string | undefined;
  /** Only add `definer` where the statement names none (the source's runner), never replace one. */
  onlyWhereMissing?: boolean;
  /** CREATE/ALTER EVENT: make the event DISABLE ON SLAVE, as the server's own replica marks it. */
  disableEvents?: boolean;
}

/**
 * A view, routine or event statement with its DEFINER replaced (or added to a
 * CREATE that has none) and, for events, its status clause made `DISABLE ON
 * SLAVE` (added to a CREATE that has none, so the default ENABLE never
 * runs). Other statements, and an ALTER EVENT without a status clause (the
 * replica's event keeps its own), are returned as they are.
 */
export function rewriteObject(sql: string, rewrite: ObjectRewrite, lexer: LexerOptions = {}): string {
  const parsed = parseStatement(statementTokens(sql, lexer));
  const head = parsed.kind === 'table' || parsed.kind === 'object' ? parsed.head : undefined;
  if (head === undefined) return sql;
  const edits: Array<{ start: number; end: number; text: string }> = [];
  if (rewrite.definer !== undefined) {
    if (head.definer) {
      if (!rewrite.onlyWhereMissing) edits.push({ ...head.definer, text: rewrite.definer });
    }
    else if (head.definerAt !== undefined) edits.push({ start: head.definerAt, end: head.definerAt, text: `DEFINER=${rewrite.definer} ` });
  }
  if (rewrite.disableEvents && parsed.kind === 'object' && parsed.type === 'EVENT') {
    if (head.status) edits.push({ ...head.status, text: 'DISABLE ON SLAVE' });
    else if (head.statusAt !== undefined) edits.push({ start: head.statusAt, end: head.statusAt, text: 'DISABLE ON SLAVE ' });
  }
  return applyEdits(sql, edits);
}

/** The separator used between the first two names of a list when it is plain (`,` or `, `), else `,`. */
function listSeparator(sql: string, names: readonly NameRef[]): string {
  if (names.length < 2) return ',';
  const between = sql.slice(names[0]!.end, names[1]!.start);
  return /^\s*,\s*$/.test(between) ? between : ',';
}
