// Views, stored routines and events: their statements carry clauses
// (DEFINER, an event's status) before and after the name that the
// assembler rewrites for the replica, so the parser records where they are.
import { isKeyword, isPunct, type Token } from '../sql-lexer.js';
import type { Cursor, NameRef } from './cursor.js';
import { ignored, unparsable, type ObjectHead, type Parsed } from './parsed.js';

const OBJECT_TYPES = ['VIEW', 'PROCEDURE', 'FUNCTION', 'EVENT'] as const;

/**
 * CREATE/ALTER/DROP of a view, stored procedure or function, or event, from
 * just after the verb (and CREATE's OR REPLACE):
 * `[ALGORITHM = x] [DEFINER = account] [SQL SECURITY x] [AGGREGATE] kind
 * [IF [NOT] EXISTS] name`. undefined when it is another kind of statement
 * (a trigger, a package, ...). A CREATE FUNCTION ... SONAME (a loadable
 * function, a server plugin) is ignored.
 */
export function parseObject(c: Cursor, verb: 'CREATE' | 'ALTER' | 'DROP'): Parsed | undefined {
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
