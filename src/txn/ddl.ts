// Recognises the DDL statements binlog-sync replicates from Query events, says
// which tables or database each one targets, and rewrites database names for
// --rewrite-db. Everything works on tokens with exact source offsets (see
// sql-lexer.ts) so a rewrite splices new names into the original text and
// leaves comments, strings, whitespace and case untouched.

import { quoteIdentifier } from '../sql/identifiers.js';
import { codeTokens, isKeyword, isName, isPunct, tokenize, type LexerOptions, type Token } from './sql-lexer.js';

export interface ResolvedTable {
  /** The qualified database, else the session's default one (undefined when neither). */
  database: string | undefined;
  table: string;
}

/** One `from TO to` of a RENAME TABLE (or ALTER TABLE ... RENAME), in statement order. */
export interface TableRename {
  from: ResolvedTable;
  to: ResolvedTable;
}

/** The kinds of stored object that are replicated besides tables and views. */
export type RoutineOrEvent = 'PROCEDURE' | 'FUNCTION' | 'EVENT';

export type StatementInfo =
  | {
      kind: 'ddl';
      scope: 'table';
      verb: string;
      /** Every table the statement changes (both sides of a rename). */
      tables: ResolvedTable[];
      /** RENAME TABLE and ALTER TABLE ... RENAME: what moves where, in order. */
      renames?: TableRename[];
      /** RENAME TABLE IF EXISTS / ALTER TABLE IF EXISTS. */
      ifExists?: true;
      /** CREATE TABLE ... LIKE: the table whose definition is copied (only read). */
      like?: ResolvedTable;
    }
  /** `unnamed`: the statement names no database (`ALTER DATABASE DEFAULT CHARACTER SET ...`), it is about the default one. */
  | { kind: 'ddl'; scope: 'database'; verb: string; database: string; unnamed?: true }
  /**
   * A stored routine or event: DDL of its database (its qualified one, else
   * the session's default). A view is a 'table' statement: it is filtered
   * and named like a table.
   */
  | { kind: 'ddl'; scope: 'object'; verb: string; type: RoutineOrEvent; objects: ResolvedTable[] }
  /** A kind of statement that is safe to skip wherever it is (users, grants, settings, ...): `reason` says which. */
  | { kind: 'ignored'; reason: string }
  /**
   * A statement binlog-sync does not replicate and cannot call harmless
   * (`INSERT` logged as a statement, ...): `databases` are
   * the ones it may touch: the default one and the first part of every
   * qualified name (over-approximated: `alias.column` counts too).
   */
  | { kind: 'other'; statement: string; databases: string[] }
  /** A DDL recognised by its first words whose rest we could not follow (it must not be skipped quietly). */
  | { kind: 'unparsable'; reason: string };

/** `lexer` carries the session's sql_mode quirks (ANSI_QUOTES, NO_BACKSLASH_ESCAPES). */
export function classifyStatement(sql: string, defaultDatabase: string | undefined, lexer: LexerOptions = {}): StatementInfo {
  const tokens = statementTokens(sql, lexer);
  const parsed = parseStatement(tokens);
  switch (parsed.kind) {
    case 'ignored':
    case 'unparsable':
      return parsed;
    case 'other': {
      const databases = new Set(qualifierTokens(tokens).map((t) => t.value));
      if (defaultDatabase !== undefined) databases.add(defaultDatabase);
      return { kind: 'other', statement: parsed.statement, databases: [...databases] };
    }
    case 'table': {
      const at = (n: NameRef): ResolvedTable => resolve(n, defaultDatabase);
      return {
        kind: 'ddl',
        scope: 'table',
        verb: parsed.verb,
        tables: parsed.names.map(at),
        ...(parsed.renames ? { renames: parsed.renames.map((r) => ({ from: at(r.from), to: at(r.to) })) } : {}),
        ...(parsed.ifExists ? { ifExists: true as const } : {}),
        ...(parsed.like ? { like: at(parsed.like) } : {}),
      };
    }
    case 'object': {
      const objects = parsed.names.map((n) => resolve(n, defaultDatabase));
      if (objects.some((o) => o.database === undefined)) return { kind: 'ignored', reason: `${parsed.verb} without a database` };
      return { kind: 'ddl', scope: 'object', verb: parsed.verb, type: parsed.type, objects };
    }
    case 'database': {
      const database = parsed.name?.value ?? defaultDatabase;
      if (database === undefined) return { kind: 'ignored', reason: `${parsed.verb} without a database` };
      return { kind: 'ddl', scope: 'database', verb: parsed.verb, database, ...(parsed.name ? {} : { unnamed: true as const }) };
    }
  }
}

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
    .map((token) => ({ token, renamed: rename(token.value) }))
    .filter(({ token, renamed }) => renamed !== token.value)
    .sort((a, b) => b.token.start - a.token.start);
  // Splice from the end so earlier offsets stay valid.
  let result = sql;
  for (const { token, renamed } of edits) {
    result = result.slice(0, token.start) + quoteIdentifier(renamed) + result.slice(token.end);
  }
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

// ---------------------------------------------------------------------------
// Parsing

/** A table name as written: its tokens and the source range they span. */
interface NameRef {
  database: Token | undefined;
  table: Token;
  start: number;
  end: number;
}

type Parsed =
  | { kind: 'table'; verb: string; names: NameRef[]; renames?: Array<{ from: NameRef; to: NameRef }>; ifExists?: boolean; like?: NameRef; head?: ObjectHead }
  | { kind: 'object'; verb: string; type: RoutineOrEvent; names: NameRef[]; head: ObjectHead }
  /** `name` is undefined for ALTER DATABASE without one (the default database). */
  | { kind: 'database'; verb: string; name: Token | undefined }
  | { kind: 'ignored'; reason: string }
  | { kind: 'other'; statement: string }
  | { kind: 'unparsable'; reason: string };

function resolve(name: NameRef, defaultDatabase: string | undefined): ResolvedTable {
  return { database: name.database?.value ?? defaultDatabase, table: name.table.value };
}

function ignored(reason: string): Parsed {
  return { kind: 'ignored', reason };
}

function other(statement: string): Parsed {
  return { kind: 'other', statement };
}

/** `statement` names the DDL whose rest we could not follow (`CREATE INDEX`). */
function unparsable(statement: string): Parsed {
  return { kind: 'unparsable', reason: `could not parse ${statement}` };
}

/** The code tokens of the first statement (a Query event holds one; a trailing `;` is allowed). */
function statementTokens(sql: string, lexer: LexerOptions = {}): Token[] {
  return tokensBeforeSemicolon(codeTokens(tokenize(sql, lexer)));
}

function tokensBeforeSemicolon(tokens: Token[]): Token[] {
  const semicolon = tokens.findIndex((t) => isPunct(t, ';'));
  return semicolon === -1 ? tokens : tokens.slice(0, semicolon);
}

/** A read position over code tokens, with the small vocabulary the grammar needs. */
class Cursor {
  pos = 0;
  constructor(readonly tokens: readonly Token[]) {}

  peek(ahead = 0): Token | undefined {
    return this.tokens[this.pos + ahead];
  }

  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }

  /** Consumes the keyword sequence `words` if all of it is next; otherwise consumes nothing. */
  accept(...words: string[]): boolean {
    if (!words.every((word, i) => isKeyword(this.peek(i), word))) return false;
    this.pos += words.length;
    return true;
  }

  acceptPunct(char: string): boolean {
    if (!isPunct(this.peek(), char)) return false;
    this.pos++;
    return true;
  }

  /** Consumes a possibly qualified name (`t`, `db.t`, `` `db` . `t` ``). */
  name(): NameRef | undefined {
    const first = this.peek();
    if (!isName(first)) return undefined;
    if (isPunct(this.peek(1), '.') && isName(this.peek(2))) {
      const table = this.peek(2)!;
      this.pos += 3;
      return { database: first, table, start: first.start, end: table.end };
    }
    this.pos++;
    return { database: undefined, table: first, start: first.start, end: first.end };
  }

  /** Consumes a single unqualified name token (an index or database name). */
  simpleName(): Token | undefined {
    const token = this.peek();
    if (!isName(token)) return undefined;
    this.pos++;
    return token;
  }
}

function parseStatement(tokens: readonly Token[]): Parsed {
  const c = new Cursor(tokens);
  const first = c.peek();
  if (first === undefined) return ignored('empty statement');
  if (first.kind !== 'identifier') return other('a statement');
  if (isKeyword(first, 'SET') && isKeyword(c.peek(1), 'STATEMENT')) return parseSetStatement(c);
  c.pos++;
  switch (first.value.toUpperCase()) {
    case 'CREATE':
      return parseCreate(c);
    case 'ALTER':
      return parseAlter(c);
    case 'DROP':
      return parseDrop(c);
    case 'RENAME':
      return parseRename(c);
    case 'TRUNCATE':
      return parseTruncate(c);
    default:
      return otherStatement(c, first.value.toUpperCase());
  }
}

/**
 * MariaDB's `SET STATEMENT var=value [, ...] FOR statement` is that statement
 * (run with the variables set): it is classified by what follows the FOR at
 * the top level. The tokens keep their offsets, so the wrapper stays in the
 * text that is applied.
 */
function parseSetStatement(c: Cursor): Parsed {
  let depth = 0;
  for (let i = c.pos + 2; i < c.tokens.length; i++) {
    const token = c.tokens[i]!;
    if (isPunct(token, '(')) depth++;
    else if (isPunct(token, ')')) depth = Math.max(0, depth - 1);
    else if (depth === 0 && isKeyword(token, 'FOR')) {
      if (i + 1 >= c.tokens.length) break;
      return parseStatement(c.tokens.slice(i + 1));
    }
  }
  return unparsable('SET STATEMENT');
}

/** Object kinds named in the reason of statements we do not replicate (`CREATE TRIGGER`). */
const OBJECT_KINDS = new Set([
  'TABLE', 'TABLES', 'INDEX', 'DATABASE', 'SCHEMA', 'VIEW', 'TRIGGER', 'PROCEDURE', 'FUNCTION', 'EVENT',
  'USER', 'ROLE', 'SERVER', 'SEQUENCE', 'TABLESPACE', 'LOGFILE', 'PACKAGE', 'INSTANCE', 'SYNONYM',
]);

/** Verbs whose name includes the kind of object too (`ANALYZE TABLE`, not just `ANALYZE`). */
const VERBS_WITH_OBJECT = new Set(['CREATE', 'ALTER', 'DROP', 'RENAME', 'ANALYZE', 'OPTIMIZE', 'REPAIR', 'CHECK', 'CHECKSUM']);

const USERS_AND_GRANTS = 'users and grants are not replicated';
const SERVER_SETTINGS = 'server settings are not replicated';
const MAINTENANCE = 'table maintenance changes no rows or definitions';
const TRIGGERS = 'triggers are not replicated: the source logs what they did as row events, which a trigger on the replica would do again';
const PACKAGES = 'Oracle-mode packages are not replicated';

/**
 * The kinds of statement that are safe to skip wherever they are, and why.
 * Everything else that binlog-sync does not apply stops the replicator when
 * it may touch a replicated database (see the assembler): nothing is skipped
 * just because it is unknown.
 */
export const SKIPPED_STATEMENTS: Readonly<Record<string, string>> = {
  GRANT: USERS_AND_GRANTS,
  REVOKE: USERS_AND_GRANTS,
  'CREATE USER': USERS_AND_GRANTS,
  'ALTER USER': USERS_AND_GRANTS,
  'DROP USER': USERS_AND_GRANTS,
  'RENAME USER': USERS_AND_GRANTS,
  'CREATE ROLE': USERS_AND_GRANTS,
  'DROP ROLE': USERS_AND_GRANTS,
  // SET PASSWORD, SET DEFAULT ROLE, SET GLOBAL ... (SET STATEMENT ... FOR is its statement)
  SET: SERVER_SETTINGS,
  FLUSH: SERVER_SETTINGS,
  INSTALL: SERVER_SETTINGS,
  UNINSTALL: SERVER_SETTINGS,
  'CREATE SERVER': SERVER_SETTINGS,
  'ALTER SERVER': SERVER_SETTINGS,
  'DROP SERVER': SERVER_SETTINGS,
  'ANALYZE TABLE': MAINTENANCE,
  'OPTIMIZE TABLE': MAINTENANCE,
  'REPAIR TABLE': MAINTENANCE,
  'CHECK TABLE': MAINTENANCE,
  'CHECKSUM TABLE': MAINTENANCE,
  'CREATE TRIGGER': TRIGGERS,
  'DROP TRIGGER': TRIGGERS,
  'CREATE PACKAGE': PACKAGES,
  'DROP PACKAGE': PACKAGES,
};

/**
 * A statement we do not replicate: ignored when its kind is in
 * SKIPPED_STATEMENTS, otherwise 'other' (the assembler stops on it when it
 * may touch a replicated database).
 */
function otherStatement(c: Cursor, verb: string): Parsed {
  const statement = statementName(c, verb);
  const reason = Object.hasOwn(SKIPPED_STATEMENTS, statement) ? SKIPPED_STATEMENTS[statement] : undefined;
  return reason === undefined ? other(statement) : ignored(`${statement}: ${reason}`);
}

/**
 * A short name for a statement (`CREATE TRIGGER`). The object kind is the first
 * kind keyword after the verb, which skips clauses such as
 * `DEFINER=root@localhost` or `OR REPLACE ALGORITHM=MERGE` that come before it.
 */
function statementName(c: Cursor, verb: string): string {
  if (!VERBS_WITH_OBJECT.has(verb)) return verb;
  const kind = c.tokens.slice(1).find((t) => t.kind === 'identifier' && OBJECT_KINDS.has(t.value.toUpperCase()));
  if (kind === undefined) return verb;
  const word = kind.value.toUpperCase();
  return `${verb} ${word === 'TABLES' ? 'TABLE' : word === 'SCHEMA' ? 'DATABASE' : word}`;
}

/**
 * Where the clauses of a view, routine or event statement are, for the
 * rewrites of the assembler (--definer, events disabled on the replica).
 */
interface ObjectHead {
  /** The account of its `DEFINER = account` clause. */
  definer?: { start: number; end: number };
  /** Where a DEFINER clause goes when there is none (CREATE only). */
  definerAt?: number;
  /** Events: the status clause (`ENABLE`, `DISABLE`, `DISABLE ON SLAVE`). */
  status?: { start: number; end: number };
  /** CREATE EVENT: where a status clause goes when there is none (before COMMENT or DO). */
  statusAt?: number;
}

const OBJECT_TYPES = ['VIEW', 'PROCEDURE', 'FUNCTION', 'EVENT'] as const;

/**
 * CREATE/ALTER/DROP of a view, stored procedure or function, or event, from
 * just after the verb (and CREATE's OR REPLACE):
 * `[ALGORITHM = x] [DEFINER = account] [SQL SECURITY x] [AGGREGATE] kind
 * [IF [NOT] EXISTS] name`. undefined when it is another kind of statement
 * (a trigger, a package, ...). A CREATE FUNCTION ... SONAME (a loadable
 * function, a server plugin) is ignored.
 */
function parseObject(c: Cursor, verb: 'CREATE' | 'ALTER' | 'DROP'): Parsed | undefined {
  const head: ObjectHead = {};
  for (;;) {
    const at = c.peek()?.start;
    if (c.accept('OR', 'REPLACE')) continue;
    if (c.accept('ALGORITHM')) {
      c.acceptPunct('=');
      c.pos++;
    } else if (c.accept('DEFINER')) {
      c.acceptPunct('=');
      const account = skipAccount(c);
      if (!account) return undefined;
      head.definer = account;
    } else if (isKeyword(c.peek(), 'SQL') && isKeyword(c.peek(1), 'SECURITY')) {
      if (head.definerAt === undefined) head.definerAt = at;
      c.pos += 3;
    } else if (isKeyword(c.peek(), 'AGGREGATE')) {
      if (head.definerAt === undefined) head.definerAt = at;
      c.pos++;
    } else {
      break;
    }
  }
  const kindToken = c.peek();
  const type = OBJECT_TYPES.find((t) => isKeyword(kindToken, t));
  if (type === undefined || kindToken === undefined) return undefined;
  c.pos++;
  // ALTER PROCEDURE and ALTER FUNCTION take no DEFINER; DROP has none.
  const takesDefiner = verb === 'CREATE' || (verb === 'ALTER' && (type === 'VIEW' || type === 'EVENT'));
  if (takesDefiner && head.definer === undefined && head.definerAt === undefined) head.definerAt = kindToken.start;
  if (!takesDefiner) delete head.definerAt;
  const statement = `${verb} ${type}`;
  if (!c.accept('IF', 'NOT', 'EXISTS')) c.accept('IF', 'EXISTS');
  const names: NameRef[] = [];
  do {
    const name = c.name();
    if (!name) return unparsable(statement);
    names.push(name);
  } while (verb === 'DROP' && type === 'VIEW' && c.acceptPunct(','));
  if (type === 'VIEW') return { kind: 'table', verb: statement, names, head };
  // A loadable function: `name RETURNS type SONAME 'lib'` (a stored one has a body instead; under
  // sql_mode=ORACLE it may also go without parentheses, so SONAME decides).
  if (type === 'FUNCTION' && verb === 'CREATE' && !isPunct(c.peek(), '(') && c.tokens.slice(c.pos).some((t) => isKeyword(t, 'SONAME'))) {
    return ignored(`${statement} ... SONAME: loadable functions are server plugins, not replicated`);
  }
  if (type === 'EVENT' && verb !== 'DROP') eventClauses(c, verb, head);
  return { kind: 'object', verb: statement, type, names, head };
}

/** An account (`user@host`, `'u'@'%'`, CURRENT_USER[()]): its source range. */
function skipAccount(c: Cursor): { start: number; end: number } | undefined {
  const first = c.peek();
  if (!isAccountPart(first)) return undefined;
  let end = first.end;
  c.pos++;
  if (isKeyword(first, 'CURRENT_USER') && isPunct(c.peek(), '(') && isPunct(c.peek(1), ')')) {
    end = c.peek(1)!.end;
    c.pos += 2;
  } else if (isPunct(c.peek(), '@')) {
    const host = c.peek(1);
    if (!isAccountPart(host)) return undefined;
    end = host.end;
    c.pos += 2;
  }
  return { start: first.start, end };
}

function isAccountPart(token: Token | undefined): token is Token {
  return token !== undefined && (token.kind === 'identifier' || token.kind === 'quoted' || token.kind === 'string');
}

/** The status clause of CREATE/ALTER EVENT, which comes (at the top level) before COMMENT and DO. */
function eventClauses(c: Cursor, verb: 'CREATE' | 'ALTER', head: ObjectHead): void {
  let depth = 0;
  for (; !c.atEnd(); c.pos++) {
    const token = c.peek()!;
    if (isPunct(token, '(')) depth++;
    else if (isPunct(token, ')')) depth = Math.max(0, depth - 1);
    if (depth > 0) continue;
    if (isKeyword(token, 'ENABLE')) head.status = { start: token.start, end: token.end };
    else if (isKeyword(token, 'DISABLE')) {
      const onSlave = isKeyword(c.peek(1), 'ON') && isKeyword(c.peek(2), 'SLAVE');
      head.status = { start: token.start, end: onSlave ? c.peek(2)!.end : token.end };
    } else if (isKeyword(token, 'COMMENT', 'DO')) {
      if (verb === 'CREATE' && head.status === undefined) head.statusAt = token.start;
      return;
    }
  }
}

/** Skips the words CREATE allows before TABLE or INDEX; says whether TEMPORARY was one. */
function skipCreateModifiers(c: Cursor): { temporary: boolean } {
  let temporary = false;
  for (;;) {
    if (c.accept('OR', 'REPLACE')) continue;
    if (c.accept('TEMPORARY')) temporary = true;
    else if (!c.accept('ONLINE') && !c.accept('OFFLINE') && !c.accept('UNIQUE') && !c.accept('FULLTEXT') && !c.accept('SPATIAL')) {
      return { temporary };
    }
  }
}

function parseCreate(c: Cursor): Parsed {
  const { temporary } = skipCreateModifiers(c);
  if (c.accept('TABLE')) {
    if (temporary) return ignored('temporary table');
    c.accept('IF', 'NOT', 'EXISTS');
    // Only the created table is a target; a LIKE or SELECT source is only read.
    const name = c.name();
    if (!name) return unparsable('CREATE TABLE');
    const parenthesized = c.acceptPunct('(');
    const like = c.accept('LIKE') ? c.name() : undefined;
    if (parenthesized && like && !c.acceptPunct(')')) return unparsable('CREATE TABLE ... LIKE');
    return { kind: 'table', verb: 'CREATE TABLE', names: [name], ...(like ? { like } : {}) };
  }
  if (c.accept('INDEX')) return parseCreateIndex(c);
  if (c.accept('DATABASE') || c.accept('SCHEMA')) {
    c.accept('IF', 'NOT', 'EXISTS');
    return databaseStatement('CREATE DATABASE', c.simpleName());
  }
  // A MariaDB sequence is a table of one row; NEXTVAL and SETVAL are logged as row events on it.
  if (c.accept('SEQUENCE')) {
    if (temporary) return ignored('temporary sequence');
    c.accept('IF', 'NOT', 'EXISTS');
    return tableStatement('CREATE SEQUENCE', c.name());
  }
  return parseObject(c, 'CREATE') ?? otherStatement(c, 'CREATE');
}

/** CREATE INDEX idx [USING ...] ON name (...): the table follows the first top-level ON. */
function parseCreateIndex(c: Cursor): Parsed {
  c.accept('IF', 'NOT', 'EXISTS');
  if (!c.simpleName()) return unparsable('CREATE INDEX');
  while (!c.atEnd() && !c.accept('ON')) c.pos++;
  return tableStatement('CREATE INDEX', c.name());
}

function parseAlter(c: Cursor): Parsed {
  while (c.accept('ONLINE') || c.accept('OFFLINE') || c.accept('IGNORE'));
  if (c.accept('TABLE')) {
    const ifExists = c.accept('IF', 'EXISTS');
    const name = c.name();
    if (!name) return unparsable('ALTER TABLE');
    const targets = alterTableTargets(c);
    const renames = targets.filter((t) => t.rename).map((t) => ({ from: name, to: t.name }));
    return {
      kind: 'table',
      verb: 'ALTER TABLE',
      names: [name, ...targets.map((t) => t.name)],
      ...(renames.length > 0 ? { renames: renames.slice(-1), ifExists } : {}),
    };
  }
  if (c.accept('DATABASE') || c.accept('SCHEMA')) {
    return { kind: 'database', verb: 'ALTER DATABASE', name: alterDatabaseName(c) };
  }
  if (c.accept('SEQUENCE')) {
    c.accept('IF', 'EXISTS');
    return tableStatement('ALTER SEQUENCE', c.name());
  }
  return parseObject(c, 'ALTER') ?? otherStatement(c, 'ALTER');
}

/**
 * Tables an ALTER TABLE changes besides the one it names: the new name of a
 * `RENAME [TO|AS] name` and the table of `EXCHANGE PARTITION p WITH TABLE name`.
 * Both only count at the start of an alter specification (after the name or a
 * top-level comma), which keeps `RENAME COLUMN a TO b` and the like out.
 */
function alterTableTargets(c: Cursor): Array<{ name: NameRef; rename: boolean }> {
  const targets: Array<{ name: NameRef; rename: boolean }> = [];
  let depth = 0;
  let specStart = true;
  while (!c.atEnd()) {
    if (depth === 0 && specStart) {
      const target = alterSpecTarget(c);
      if (target) targets.push(target);
    }
    const token = c.peek();
    if (token === undefined) break;
    if (isPunct(token, '(')) depth++;
    else if (isPunct(token, ')')) depth = Math.max(0, depth - 1);
    specStart = depth === 0 && isPunct(token, ',');
    c.pos++;
  }
  return targets;
}

function alterSpecTarget(c: Cursor): { name: NameRef; rename: boolean } | undefined {
  if (c.accept('RENAME')) {
    if (isKeyword(c.peek(), 'COLUMN', 'INDEX', 'KEY')) return undefined;
    if (!c.accept('TO')) c.accept('AS');
    const name = c.name();
    return name && { name, rename: true };
  }
  if (c.accept('EXCHANGE', 'PARTITION')) {
    c.simpleName();
    const name = c.accept('WITH', 'TABLE') ? c.name() : undefined;
    return name && { name, rename: false };
  }
  return undefined;
}

/** Words that start a database option, and how to tell them from a database of that name. */
const DATABASE_OPTION_CONTINUES: Record<string, (next: Token | undefined) => boolean> = {
  DEFAULT: (next) => isKeyword(next, 'CHARACTER', 'CHARSET', 'COLLATE', 'ENCRYPTION'),
  CHARACTER: (next) => isKeyword(next, 'SET'),
  CHARSET: (next) => isPunct(next, '=') || optionValue(next),
  COLLATE: (next) => isPunct(next, '=') || optionValue(next),
  ENCRYPTION: (next) => isPunct(next, '=') || next?.kind === 'string',
  READ: (next) => isKeyword(next, 'ONLY'),
  COMMENT: (next) => isPunct(next, '=') || next?.kind === 'string',
};

function optionValue(token: Token | undefined): boolean {
  if (token?.kind === 'string') return true;
  return isName(token) && !(token.kind === 'identifier' && token.value.toUpperCase() in DATABASE_OPTION_CONTINUES);
}

/**
 * ALTER DATABASE's name is optional, so `ALTER DATABASE CHARACTER SET x` must
 * not read CHARACTER as a database: a word that starts a database option (and
 * is followed by what that option expects) is the option.
 */
function alterDatabaseName(c: Cursor): Token | undefined {
  const token = c.peek();
  if (token?.kind === 'identifier') {
    const continues = DATABASE_OPTION_CONTINUES[token.value.toUpperCase()];
    if (continues?.(c.peek(1))) return undefined;
  }
  return c.simpleName();
}

function parseDrop(c: Cursor): Parsed {
  const temporary = c.accept('TEMPORARY');
  if (c.accept('TABLE') || c.accept('TABLES')) {
    if (temporary) return ignored('temporary table');
    c.accept('IF', 'EXISTS');
    return nameListStatement('DROP TABLE', c);
  }
  if (c.accept('INDEX')) {
    c.accept('IF', 'EXISTS');
    if (!c.simpleName() || !c.accept('ON')) return unparsable('DROP INDEX');
    return tableStatement('DROP INDEX', c.name());
  }
  if (c.accept('DATABASE') || c.accept('SCHEMA')) {
    c.accept('IF', 'EXISTS');
    return databaseStatement('DROP DATABASE', c.simpleName());
  }
  if (c.accept('SEQUENCE')) {
    if (temporary) return ignored('temporary sequence');
    c.accept('IF', 'EXISTS');
    return nameListStatement('DROP SEQUENCE', c);
  }
  if (temporary) return otherStatement(c, 'DROP');
  return parseObject(c, 'DROP') ?? otherStatement(c, 'DROP');
}

/** `n1 [, n2 ...]`; what follows the list (RESTRICT, CASCADE, WAIT n) does not matter. */
function nameListStatement(verb: string, c: Cursor): Parsed {
  const names: NameRef[] = [];
  do {
    const name = c.name();
    if (!name) return unparsable(verb);
    names.push(name);
  } while (c.acceptPunct(','));
  return { kind: 'table', verb, names };
}

/** RENAME TABLE [IF EXISTS] a [WAIT n | NOWAIT] TO b [, c TO d ...]; both sides are targets. */
function parseRename(c: Cursor): Parsed {
  if (!c.accept('TABLE') && !c.accept('TABLES')) return otherStatement(c, 'RENAME');
  const ifExists = c.accept('IF', 'EXISTS');
  const names: NameRef[] = [];
  const renames: Array<{ from: NameRef; to: NameRef }> = [];
  do {
    const from = c.name();
    skipWait(c);
    const to = c.accept('TO') ? c.name() : undefined;
    if (!from || !to) return unparsable('RENAME TABLE');
    names.push(from, to);
    renames.push({ from, to });
  } while (c.acceptPunct(','));
  return { kind: 'table', verb: 'RENAME TABLE', names, renames, ifExists };
}

/** MariaDB's lock-wait clause: `WAIT n` or `NOWAIT`. */
function skipWait(c: Cursor): void {
  if (c.accept('NOWAIT')) return;
  if (c.accept('WAIT') && c.peek()?.kind === 'number') c.pos++;
}

function parseTruncate(c: Cursor): Parsed {
  // TABLE is optional, and reserved, so a table called `table` is quoted.
  c.accept('TABLE');
  return tableStatement('TRUNCATE TABLE', c.name());
}

function tableStatement(verb: string, name: NameRef | undefined): Parsed {
  return name ? { kind: 'table', verb, names: [name] } : unparsable(verb);
}

function databaseStatement(verb: string, name: Token | undefined): Parsed {
  return name ? { kind: 'database', verb, name } : unparsable(verb);
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
  let result = sql;
  for (const edit of edits.sort((a, b) => b.start - a.start)) result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
  return result;
}

// ---------------------------------------------------------------------------
// Rewriting helpers

/**
 * The database part of every qualified name: a name followed by `.` and a name.
 * In `db.t.col` only `db` counts, and `@@session.x` / `@a.b` are variables.
 */
function qualifierTokens(tokens: readonly Token[]): Token[] {
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

/** The separator used between the first two names of a list when it is plain (`,` or `, `), else `,`. */
function listSeparator(sql: string, names: readonly NameRef[]): string {
  if (names.length < 2) return ',';
  const between = sql.slice(names[0]!.end, names[1]!.start);
  return /^\s*,\s*$/.test(between) ? between : ',';
}
