// Recognises the DDL statements binlog-sync replicates from Query events and
// says which tables or database each one targets (resolved against the
// session's default database), for the assembler's filters.
import type { LexerOptions } from '../sql-lexer.js';
import type { NameRef } from './cursor.js';
import { parseStatement } from './parse.js';
import type { ResolvedTable, StatementInfo } from './statement-info.js';
import { qualifierTokens, statementTokens } from './tokens.js';

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

function resolve(name: NameRef, defaultDatabase: string | undefined): ResolvedTable {
  return { database: name.database?.value ?? defaultDatabase, table: name.table.value };
}
