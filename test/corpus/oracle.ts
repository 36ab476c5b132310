// The oracle of issue 23: every row change the source logged for a test must
// appear, with the same images, in a replica's own binlog (per table, as a
// multiset: the order of rows inside a transaction may differ), and the final
// tables must be the same. Pure: the caller reads the logs and the tables.
import type { DatabaseImage } from '../support/compare.js';

/** The first difference found, as one line; null when equal. */
export function compareRowChanges(expected: Map<string, string[]>, actual: Map<string, string[]>): string | null {
  const tables = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  for (const table of tables) {
    const { missing, extra } = multisetDifference(expected.get(table) ?? [], actual.get(table) ?? []);
    if (missing.length === 0 && extra.length === 0) continue;
    const parts = [`${table}: ${missing.length} row change(s) missing, ${extra.length} extra`];
    if (missing[0]) parts.push(`e.g. missing ${shown(missing[0])}`);
    if (extra[0]) parts.push(`extra ${shown(extra[0])}`);
    return parts.join('; ');
  }
  return null;
}

/** The first table whose definition or rows differ, as one line; null when equal. */
export function compareImages(expected: Record<string, DatabaseImage>, actual: Record<string, DatabaseImage>): string | null {
  for (const db of Object.keys(expected).sort()) {
    const want = expected[db]!.tables;
    const got = actual[db]?.tables ?? {};
    for (const table of [...new Set([...Object.keys(want), ...Object.keys(got)])].sort()) {
      const w = want[table];
      const g = got[table];
      if (!w) return `${db}.${table}: a table the source does not have`;
      if (!g) return `${db}.${table}: missing`;
      if (w.definition !== g.definition) return `${db}.${table}: definition differs: ${shown(firstDifference(w.definition, g.definition))}`;
      const { missing, extra } = multisetDifference(w.rows, g.rows);
      if (missing.length > 0 || extra.length > 0) {
        return (
          `${db}.${table}: final rows differ (${w.rows.length} vs ${g.rows.length})` +
          (missing[0] ? `; e.g. missing ${shown(missing[0])}` : '') +
          (extra[0] ? `; extra ${shown(extra[0])}` : '')
        );
      }
    }
  }
  return null;
}

/** What `want` has more of than `got` (missing), and the other way round (extra), counting repeats. */
function multisetDifference(want: string[], got: string[]): { missing: string[]; extra: string[] } {
  const w = count(want);
  const g = count(got);
  const missing: string[] = [];
  const extra: string[] = [];
  for (const [line, n] of w) for (let i = g.get(line) ?? 0; i < n; i++) missing.push(line);
  for (const [line, n] of g) for (let i = w.get(line) ?? 0; i < n; i++) extra.push(line);
  return { missing, extra };
}

function count(lines: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `...${a.slice(Math.max(0, i - 20), i + 40)}... vs ...${b.slice(Math.max(0, i - 20), i + 40)}...`;
}

/** A value for a one-line report: control and non-ASCII characters escaped, at most 160 characters. */
function shown(s: string): string {
  // eslint-disable-next-line no-control-regex
  const escaped = s.replace(/[\x00-\x1f\x7f-\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length > 160 ? escaped.slice(0, 157) + '...' : escaped;
}
