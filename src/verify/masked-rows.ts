// How verify compares a table with masked columns: the replica holds the
// source's values masked, so the source side is masked the same way before
// it is compared. Each row is hashed as verify.ts hashes any row (every
// column's bytes hashed, joined by '#', hashed again) and a chunk summed the
// same way, so the replica side stays the server-side checksum it always was.
//
// Columns masked without the key are rebuilt in SQL on the source (null,
// redact, fixed); the keyed ones (hash, email) are read as their bytes and
// masked here, with the same Masker that snapshot and start use.
import { createHash } from 'node:crypto';
import type { TableMasks } from '../mask/masker.js';
import type { MaskFunction } from '../mask/methods.js';
import { columnFit } from '../mask/column-type.js';
import type { MaskRule } from '../mask/rules.js';
import { quoteIdentifier } from '../sql/identifiers.js';
import type { ColumnDef } from '../source/events.js';

/** One column's part of a row's hash on the source: an SQL term, or bytes read here to be masked. */
interface Term {
  sql: string;
  /** Set when the term is the column's bytes, to be masked and hashed here. */
  mask?: MaskFunction;
}

const md5 = (bytes: Buffer | string): string => createHash('md5').update(bytes).digest('hex');

/** An SQL expression and its parameters. */
export interface Expression {
  sql: string;
  params: unknown[];
}

/** A column's bytes hashed, NULL as N: the term of an unmasked column on either side (`name` quoted). */
export const plainTerm = (name: string): string => `IFNULL(MD5(CAST(${name} AS BINARY)), 'N')`;

/**
 * A masked column as the replica's checksum reads it: text through utf8mb4
 * (the masks write characters, whatever the column's character set), and a
 * fixed value as a mark where the column holds it as the server converts it
 * (a DECIMAL's 5 is 5.00).
 */
function replicaTerm(column: ColumnDef, rule: MaskRule | undefined): Expression {
  const name = quoteIdentifier(column.name);
  if (!rule) return { sql: plainTerm(name), params: [] };
  if (rule.method.name === 'fixed') return { sql: `IF(${name} <=> ?, 'F', ${plainTerm(name)})`, params: [rule.method.value] };
  if (column.characterSet) return { sql: `IFNULL(MD5(CAST(CONVERT(${name} USING utf8mb4) AS BINARY)), 'N')`, params: [] };
  return { sql: plainTerm(name), params: [] };
}

/** The source's term for a column: as it is, rebuilt in SQL (null, redact, fixed), or read for masking here (hash, email). */
function sourceTerm(column: ColumnDef, rule: MaskRule | undefined, mask: MaskFunction | undefined): Term {
  const name = quoteIdentifier(column.name);
  if (!rule || !mask) return { sql: plainTerm(name) };
  switch (rule.method.name) {
    case 'null':
      return { sql: `'N'` };
    case 'fixed':
      return { sql: `'F'` };
    case 'redact': {
      const fit = columnFit(column.sqlType ?? '', column.characterSet, column.collation);
      const length = fit.kind === 'binary' ? (fit.fixed ? String(fit.maxBytes) : `LENGTH(${name})`) : `CHAR_LENGTH(${name})`;
      return { sql: `IFNULL(MD5(CAST(IF(${name} IS NULL, NULL, REPEAT('x', ${length})) AS BINARY)), 'N')` };
    }
    case 'hash':
    case 'email':
      return { sql: `CAST(${name} AS BINARY)`, mask };
  }
}

/** The replica's row image of a masked table (what verify.ts hashes per row). */
export function maskedReplicaImage(columns: ColumnDef[], ruleOf: (column: string) => MaskRule | undefined): Expression {
  const terms = columns.map((c) => replicaTerm(c, ruleOf(c.name)));
  return { sql: `CONCAT_WS('#', ${terms.map((t) => t.sql).join(', ')})`, params: terms.flatMap((t) => t.params) };
}

export interface MaskedSource {
  /** The SELECT list after the key columns: one term per column. */
  terms: string;
  /** A row's hash from the terms read, as the replica computes MD5(image) for its row. */
  rowHash(terms: unknown[]): string;
}

/** The source side of a masked table: its terms, and how a row read through them is hashed. */
export function maskedSource(columns: ColumnDef[], masks: TableMasks, ruleOf: (column: string) => MaskRule | undefined): MaskedSource {
  const terms = columns.map((c, i) => sourceTerm(c, ruleOf(c.name), masks[i]));
  return {
    terms: terms.map((t) => t.sql).join(', '),
    rowHash(values) {
      const parts = values.map((v, i) => {
        const mask = terms[i]!.mask;
        if (!mask) return Buffer.isBuffer(v) ? v.toString('latin1') : String(v);
        const out = mask(v);
        return out === null || out === undefined ? 'N' : md5(Buffer.isBuffer(out) ? out : Buffer.from(String(out), 'utf8'));
      });
      return md5(parts.join('#'));
    },
  };
}

/** A chunk's count and two order-independent sums of its row hashes, as verify.ts's SQL computes them. */
export function sumHashes(hashes: Iterable<string>): { rows: number; xor: string; sum: string } {
  let rows = 0;
  let xor = 0n;
  let sum = 0n;
  for (const h of hashes) {
    rows++;
    xor ^= BigInt(`0x${h.slice(0, 16)}`);
    sum += BigInt(`0x${h.slice(16, 24)}`);
  }
  return { rows, xor: xor.toString(), sum: sum.toString() };
}
