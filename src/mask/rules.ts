// Masking rules as the user writes them (`--mask DB.TABLE.COLUMN=METHOD`):
// parsed once, matched against source column names. Pure.
import { ConfigError } from '../errors.js';

export type MaskMethod =
  | { name: 'null' }
  | { name: 'redact' }
  | { name: 'hash' }
  | { name: 'email' }
  | { name: 'fixed'; value: string };

export interface MaskRule {
  /** As written (normalised spacing): how errors and the replica's record name the rule. */
  text: string;
  database: string;
  table: string;
  column: string;
  method: MaskMethod;
  /** Wildcards in the pattern: a rule with fewer wins over one with more (then the first given). */
  wildcards: number;
  matches(database: string, table: string, column: string): boolean;
}

/** The methods that need the secret key (`--mask-key-file`). */
export const KEYED_METHODS: ReadonlySet<string> = new Set(['hash', 'email']);

/** `*` in a name part: any run of characters. Column names compare case-insensitively, as the server does. */
function partRegExp(part: string, caseInsensitive: boolean): RegExp {
  const body = part.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^]*');
  return new RegExp(`^${body}$`, caseInsensitive ? 'i' : '');
}

function parseMethod(text: string, rule: string): MaskMethod {
  if (text.startsWith('fixed:')) return { name: 'fixed', value: text.slice('fixed:'.length) };
  if (text === 'null' || text === 'redact' || text === 'hash' || text === 'email') return { name: text };
  throw new ConfigError(`mask rule '${rule}': unknown method '${text}'; use null, redact, hash, email or fixed:VALUE`);
}

/** One `DB.TABLE.COLUMN=METHOD` rule; a clear error naming the rule when it is not one. */
export function parseMaskRule(input: string): MaskRule {
  const rule = input.trim();
  const eq = rule.indexOf('=');
  const pattern = eq < 0 ? rule : rule.slice(0, eq).trim();
  const parts = pattern.split('.');
  if (eq < 0 || parts.length !== 3 || parts.some((p) => p.trim() === '')) {
    throw new ConfigError(`mask rule '${rule}' is not DB.TABLE.COLUMN=METHOD (e.g. themepark_tracker.visitors.email=email, or *.*.email=email)`);
  }
  const [database, table, column] = parts.map((p) => p.trim()) as [string, string, string];
  const methodText = rule.slice(eq + 1).trim();
  const method = parseMethod(methodText, rule);
  const res = [partRegExp(database, false), partRegExp(table, false), partRegExp(column, true)];
  return {
    text: `${database}.${table}.${column}=${method.name === 'fixed' ? `fixed:${method.value}` : method.name}`,
    database,
    table,
    column,
    method,
    wildcards: (pattern.match(/\*/g) ?? []).length,
    matches: (db, t, c) => res[0]!.test(db) && res[1]!.test(t) && res[2]!.test(c),
  };
}

/** The rules in the order they apply: fewest wildcards first, then as given. */
export function parseMaskRules(inputs: readonly string[]): MaskRule[] {
  const rules = inputs.map(parseMaskRule);
  const order = new Map(rules.map((r, i) => [r, i]));
  return [...rules].sort((a, b) => a.wildcards - b.wildcards || order.get(a)! - order.get(b)!);
}

/** The rule for a source column (rules as parseMaskRules orders them), or undefined when it is not masked. */
export function ruleFor(rules: readonly MaskRule[], database: string, table: string, column: string): MaskRule | undefined {
  return rules.find((r) => r.matches(database, table, column));
}
