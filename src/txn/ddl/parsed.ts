// What the parser makes of a statement, before names are resolved against
// the session's default database (classify.ts) or spliced over (rewrite.ts):
// the grammar functions of parse.ts and parse-object.ts all return it.
import type { Token } from '../sql-lexer.js';
import type { NameRef } from './cursor.js';
import type { RoutineOrEvent } from './statement-info.js';

export type Parsed =
  | { kind: 'table'; verb: string; names: NameRef[]; renames?: Array<{ from: NameRef; to: NameRef }>; ifExists?: boolean; like?: NameRef; head?: ObjectHead }
  | { kind: 'object'; verb: string; type: RoutineOrEvent; names: NameRef[]; head: ObjectHead }
  /** `name` is undefined for ALTER DATABASE without one (the default database). */
  | { kind: 'database'; verb: string; name: Token | undefined }
  | { kind: 'ignored'; reason: string }
  | { kind: 'other'; statement: string }
  | { kind: 'unparsable'; reason: string };

/**
 * Where the clauses of a view, routine or event statement are, for the
 * rewrites of the assembler (--definer, events disabled on the replica).
 */
export interface ObjectHead {
  /** The account of its `DEFINER = account` clause. */
  definer?: { start: number; end: number };
  /** Where a DEFINER clause goes when there is none (CREATE only). */
  definerAt?: number;
  /** Events: the status clause (`ENABLE`, `DISABLE`, `DISABLE ON SLAVE`). */
  status?: { start: number; end: number };
  /** CREATE EVENT: where a status clause goes when there is none (before COMMENT or DO). */
  statusAt?: number;
}

export function ignored(reason: string): Parsed {
  return { kind: 'ignored', reason };
}

export function other(statement: string): Parsed {
  return { kind: 'other', statement };
}

/** `statement` names the DDL whose rest we could not follow (`CREATE INDEX`). */
export function unparsable(statement: string): Parsed {
  return { kind: 'unparsable', reason: `could not parse ${statement}` };
}

export function tableStatement(verb: string, name: NameRef | undefined): Parsed {
  return name ? { kind: 'table', verb, names: [name] } : unparsable(verb);
}

export function databaseStatement(verb: string, name: Token | undefined): Parsed {
  return name ? { kind: 'database', verb, name } : unparsable(verb);
}
