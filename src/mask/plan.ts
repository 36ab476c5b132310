// The masking rules held against the source's tables before anything runs
// (`start`, `snapshot`, `verify` refuse, `check` reports): which columns each
// rule masks, and every combination that cannot be honoured. Reads only
// information_schema; planColumns, the judging, is pure (check runs it on the
// columns it gathers).
import { queryAll, type Connection } from '../db/connect.js';
import type { ReplicationFilter } from '../txn/filter.js';
import { MaskError } from '../errors.js';
import type { Masker } from './masker.js';
import { constraintRefusal } from './methods.js';
import type { MaskRule } from './rules.js';

export interface MaskedColumn {
  /** `db.table.column` on the source. */
  column: string;
  rule: string;
}

/** A combination that cannot be honoured: the line that says so, its rule, and the column when there is one. */
export interface MaskIssue {
  problem: string;
  rule: MaskRule;
  /** Absent for a rule that names no column of the replicated tables. */
  column?: SourceColumn;
}

export interface MaskPlan {
  masked: MaskedColumn[];
  /** What cannot be honoured, one line each, naming the rule and the column. */
  problems: string[];
  /** The same, with the rule and the column (what `check` builds its fixes from). */
  issues: MaskIssue[];
}

/** A column of a replicated table as the masking plan sees it. */
export interface SourceColumn {
  database: string;
  table: string;
  name: string;
  /** information_schema's COLUMN_TYPE (`varchar(64)`, `int(11) unsigned`). */
  columnType: string;
  characterSet: string | null;
  /** COLLATION_NAME (text columns). */
  collation?: string | null;
  nullable: boolean;
  /** The column alone makes a unique key (PRIMARY or UNIQUE). */
  unique: boolean;
  /** MariaDB's JSON: LONGTEXT with a json_valid() check. */
  json: boolean;
  generated: boolean;
  /** The column a foreign key of this column references, when it has one. */
  references?: { database: string; table: string; name: string };
}

interface ColumnRow {
  db: string;
  tbl: string;
  name: string;
  columnType: string;
  characterSet: string | null;
  collation: string | null;
  nullable: string;
  extra: string;
}

/** Columns that alone make a unique key (PRIMARY or UNIQUE), as `db.table.column`. */
async function uniqueColumns(conn: Connection, databases: readonly string[]): Promise<Set<string>> {
  const rows = await queryAll<{ db: string; tbl: string; name: string }>(
    conn,
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, MIN(COLUMN_NAME) AS name FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA IN (?) AND NON_UNIQUE = 0 GROUP BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME HAVING COUNT(*) = 1`,
    [databases],
  );
  return new Set(rows.map((r) => `${r.db}.${r.tbl}.${r.name}`.toLowerCase()));
}

/**
 * MariaDB's JSON columns: LONGTEXT with a json_valid() check (the binlog sees
 * a LONGTEXT), where only null and fixed:JSON keep a valid document.
 */
async function jsonColumns(conn: Connection, databases: readonly string[]): Promise<Set<string>> {
  const rows = await queryAll<{ db: string; tbl: string; clause: string }>(
    conn,
    'SELECT CONSTRAINT_SCHEMA AS db, TABLE_NAME AS tbl, CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA IN (?)',
    [databases],
  ).catch(() => []); // MySQL 8.0.15 and older: none (its JSON is a type of its own)
  const out = new Set<string>();
  for (const r of rows) {
    const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(r.clause.trim());
    if (m) out.add(`${r.db}.${r.tbl}.${m[1]!.replaceAll('``', '`')}`.toLowerCase());
  }
  return out;
}

/** The column each foreign-key column references, by `db.table.column` (lower case). */
async function foreignKeys(conn: Connection, databases: readonly string[]): Promise<Map<string, { database: string; table: string; name: string }>> {
  const rows = await queryAll<{ db: string; tbl: string; name: string; rdb: string; rtbl: string; rname: string }>(
    conn,
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS name, REFERENCED_TABLE_SCHEMA AS rdb, REFERENCED_TABLE_NAME AS rtbl,
            REFERENCED_COLUMN_NAME AS rname
       FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA IN (?) AND REFERENCED_TABLE_NAME IS NOT NULL`,
    [databases],
  );
  return new Map(rows.map((r) => [`${r.db}.${r.tbl}.${r.name}`.toLowerCase(), { database: r.rdb, table: r.rtbl, name: r.rname }]));
}

/** The columns of the tables the filter replicates in `databases`, in table and column order (information_schema only). */
export async function replicatedColumns(conn: Connection, databases: readonly string[], filter: ReplicationFilter): Promise<SourceColumn[]> {
  if (databases.length === 0) return [];
  const rows = await queryAll<ColumnRow>(
    conn,
    `SELECT c.TABLE_SCHEMA AS db, c.TABLE_NAME AS tbl, c.COLUMN_NAME AS name, c.COLUMN_TYPE AS columnType,
            c.CHARACTER_SET_NAME AS characterSet, c.COLLATION_NAME AS collation, c.IS_NULLABLE AS nullable, c.EXTRA AS extra
       FROM information_schema.COLUMNS c JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
      WHERE c.TABLE_SCHEMA IN (?) AND t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
      ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION`,
    [databases],
  );
  const unique = await uniqueColumns(conn, databases);
  const json = await jsonColumns(conn, databases);
  const references = await foreignKeys(conn, databases);
  return rows
    .filter((c) => filter.replicatesTable(c.db, c.tbl))
    .map((c) => {
      const lower = `${c.db}.${c.tbl}.${c.name}`.toLowerCase();
      return {
        database: c.db,
        table: c.tbl,
        name: c.name,
        columnType: c.columnType,
        characterSet: c.characterSet,
        collation: c.collation,
        nullable: c.nullable === 'YES',
        unique: unique.has(lower),
        json: json.has(lower),
        generated: /GENERATED/i.test(c.extra),
        ...(references.has(lower) ? { references: references.get(lower)! } : {}),
      };
    });
}

/**
 * Why a method cannot mask this column for what the column is (generated,
 * JSON, NOT NULL, unique), as the line naming the rule; undefined when that
 * is not in the way. The type fit is the Masker's (compileMask).
 */
export function columnProblem(rule: Pick<MaskRule, 'text' | 'method'>, c: SourceColumn): string | undefined {
  const where = `${c.database}.${c.table}.${c.name}`;
  if (c.generated) {
    return `mask rule ${rule.text}: ${where} is a generated column, computed on the replica from the columns it is made of: mask those instead`;
  }
  if (c.json && rule.method.name !== 'null' && rule.method.name !== 'fixed') {
    return `mask rule ${rule.text}: ${where} is a JSON column, where ${rule.method.name} would not leave a JSON document; use null or fixed:VALUE (e.g. fixed:{})`;
  }
  const refusal = constraintRefusal(rule.method, { nullable: c.nullable, unique: c.unique });
  return refusal ? `mask rule ${rule.text}: ${refusal} (${where})` : undefined;
}

/** The rules against these columns: what each masks, and what cannot be. Pure. */
export function planColumns(columns: readonly SourceColumn[], masker: Masker): MaskPlan {
  const plan: MaskPlan = { masked: [], problems: [], issues: [] };
  if (!masker.active) return plan;
  const problem = (issue: MaskIssue): void => {
    plan.issues.push(issue);
    plan.problems.push(issue.problem);
  };
  const used = new Set<string>();
  for (const c of columns) {
    const rule = masker.ruleFor(c.database, c.table, c.name);
    if (!rule) continue;
    used.add(rule.text);
    const refused = columnProblem(rule, c);
    if (refused) {
      problem({ problem: refused, rule, column: c });
      continue;
    }
    try {
      masker.maskOf(c, {
        name: c.name,
        kind: 'plain',
        sqlType: c.columnType,
        ...(c.characterSet ? { characterSet: c.characterSet } : {}),
        // A text column's collation, or (when not read) one of its character set: only hash's folding depends on it.
        ...(c.characterSet ? { collation: c.collation ?? `${c.characterSet}_bin` } : {}),
      });
      plan.masked.push({ column: `${c.database}.${c.table}.${c.name}`, rule: rule.text });
    } catch (error) {
      if (!(error instanceof MaskError)) throw error;
      problem({ problem: error.message, rule, column: c });
    }
  }
  // Both ends of a foreign key masked alike, or the replica's child rows would name parents it does not have.
  const replicated = new Set(columns.map((c) => `${c.database}.${c.table}`));
  for (const c of columns) {
    const ref = c.references;
    if (!ref || !replicated.has(`${ref.database}.${ref.table}`)) continue;
    const child = masker.ruleFor(c.database, c.table, c.name);
    const parent = masker.ruleFor(ref.database, ref.table, ref.name);
    if (!child && !parent) continue;
    const method = (r: MaskRule | undefined): string => (r ? (r.method.name === 'fixed' ? `fixed:${r.method.value}` : r.method.name) : 'none');
    if (method(child) === method(parent)) continue;
    const [a, b] = [`${c.database}.${c.table}.${c.name}`, `${ref.database}.${ref.table}.${ref.name}`];
    problem({
      problem: `mask rule ${(child ?? parent)!.text}: ${a} references ${b} by a foreign key, but they are masked differently (${method(child)} and ${method(parent)}); mask both with the same method`,
      rule: (child ?? parent)!,
      column: c,
    });
  }
  // A rule without wildcards that masks nothing is a typo that would leave the data it meant unmasked.
  for (const rule of masker.rules) {
    if (rule.wildcards === 0 && !used.has(rule.text)) {
      problem({ problem: `mask rule ${rule.text}: the source has no column ${rule.database}.${rule.table}.${rule.column} among the replicated tables`, rule });
    }
  }
  return plan;
}

/** The rules against the replicated tables of the source: what each masks, and what cannot be. */
export async function planMasking(conn: Connection, databases: readonly string[], filter: ReplicationFilter, masker: Masker): Promise<MaskPlan> {
  if (!masker.active || databases.length === 0) return { masked: [], problems: [], issues: [] };
  return planColumns(await replicatedColumns(conn, databases, filter), masker);
}

/** A masked column's `db.table.column` as named on the replica (--rewrite-db). */
export function onReplica(column: string, filter: ReplicationFilter): string {
  const dot = column.indexOf('.');
  return `${filter.targetDatabase(column.slice(0, dot))}${column.slice(dot)}`;
}

/** The plan, or one MaskError naming every problem: nothing starts with a rule it cannot honour. */
export async function requireMaskPlan(conn: Connection, databases: readonly string[], filter: ReplicationFilter, masker: Masker): Promise<MaskPlan> {
  const plan = await planMasking(conn, databases, filter, masker);
  if (plan.problems.length > 0) throw new MaskError(plan.problems.join('; '));
  return plan;
}
