// The statements binlog-sync does not replicate, and which of them are safe
// to skip: a statement is named by its verb and object kind so that the
// reason given (or the stop, for one that is not safe) says what it was.
import type { Cursor } from './cursor.js';
import { ignored, other, type Parsed } from './parsed.js';

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
export function otherStatement(c: Cursor, verb: string): Parsed {
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
