// The grammar of the DDL binlog-sync replicates, read from a statement's
// code tokens: only as far as needed to find the tables or database it
// changes; anything it cannot follow is 'unparsable', never skipped quietly.
import { isKeyword, isName, isPunct, type Token } from '../sql-lexer.js';
import { Cursor, type NameRef } from './cursor.js';
import { parseObject } from './parse-object.js';
import { databaseStatement, ignored, other, tableStatement, unparsable, type Parsed } from './parsed.js';
import { otherStatement } from './skipped.js';

export function parseStatement(tokens: readonly Token[]): Parsed {
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
