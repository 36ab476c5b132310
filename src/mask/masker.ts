// Applies the masking rules to rows on their way to the replica: one Masker
// per run, shared by every path (the binlog stream's row images, before and
// after; snapshot's rows; verify's reading of the source). Pure: the column
// types come with the table definitions.
import { MaskError, UnsupportedEventError } from '../errors.js';
import { isJsonDiffValue } from '../binlog/json-diff.js';
import type { ColumnDef, RowImage, TableDef } from '../source/events.js';
import { columnFit, describeFit } from './column-type.js';
import { compileMask, type MaskFunction } from './methods.js';
import { parseMaskRules, ruleFor, type MaskRule } from './rules.js';

/** The masking of a run, as it crosses to the decoding thread: the rules as written, and the key's bytes. */
export interface MaskSettings {
  rules: readonly string[];
  /** The secret key of the keyed methods (never logged or stored). */
  key?: Uint8Array | undefined;
}

/** The masked columns of a table: a mask per column index, undefined where the column is not masked. */
export type TableMasks = ReadonlyArray<MaskFunction | undefined>;

export class Masker {
  private readonly tables = new WeakMap<TableDef, TableMasks | null>();
  readonly rules: readonly MaskRule[];
  private readonly key: Buffer | undefined;

  constructor(settings: MaskSettings) {
    this.rules = parseMaskRules(settings.rules);
    this.key = settings.key ? Buffer.from(settings.key) : undefined;
  }

  get active(): boolean {
    return this.rules.length > 0;
  }

  /** The rule that masks a source column, if any. */
  ruleFor(database: string, table: string, column: string): MaskRule | undefined {
    return ruleFor(this.rules, database, table, column);
  }

  /**
   * The masks of a table (named as on the source), or null when none of its
   * columns is masked. Throws MaskError when a rule matches a column it
   * cannot fit: refusing beats letting the value through.
   */
  masksOf(table: TableDef): TableMasks | null {
    let masks = this.tables.get(table);
    if (masks === undefined) {
      masks = this.compile(table);
      this.tables.set(table, masks);
    }
    return masks;
  }

  /** One column's mask, or undefined when no rule names it. */
  maskOf(table: { database: string; table: string }, column: ColumnDef): MaskFunction | undefined {
    const rule = this.ruleFor(table.database, table.table, column.name);
    if (!rule) return undefined;
    const where = `${table.database}.${table.table}.${column.name}`;
    if (!column.sqlType) throw new MaskError(`mask rule ${rule.text}: the type of ${where} is not known, so it cannot be masked`);
    const fit = columnFit(column.sqlType, column.characterSet, column.collation);
    // hash folds what the collation calls equal: without it, one path could fold and another not.
    if (rule.method.name === 'hash' && fit.kind === 'text' && !fit.collation) {
      throw new MaskError(`mask rule ${rule.text}: the collation of ${where} is not known, so it cannot be masked consistently`);
    }
    const compiled = compileMask(rule.method, fit, this.key);
    if (!compiled.ok) throw new MaskError(`mask rule ${rule.text} cannot be applied to ${where} (${describeFit(fit)}): ${compiled.reason}`);
    return compiled.apply;
  }

  /** Masks row images in place (columns absent from an image stay absent). */
  maskImages(table: TableDef, images: Iterable<RowImage | undefined>): void {
    const masks = this.masksOf(table);
    if (!masks) return;
    for (const image of images) if (image) maskImage(masks, image);
  }

  /**
   * Masks a rows event's before and after images in place. A value an update
   * leaves as it was is masked once for both images: a mask depends on the
   * value alone, and each keyed value costs an HMAC (several µs a call, most
   * of what masking costs).
   */
  maskRows(table: TableDef, rows: ReadonlyArray<{ before?: RowImage; after?: RowImage }>): void {
    const masks = this.masksOf(table);
    if (!masks) return;
    for (const row of rows) {
      const { before, after } = row;
      if (!before || !after) {
        const image = before ?? after;
        if (image) maskImage(masks, image);
        continue;
      }
      for (let i = 0; i < masks.length; i++) {
        const mask = masks[i];
        if (!mask) continue;
        const old = i < before.length ? before[i] : undefined;
        const now = i < after.length ? after[i] : undefined;
        if (isJsonDiffValue(now)) {
          // (The changes would carry unmasked values into the masked document.)
          throw new UnsupportedEventError(
            `a partial JSON update (binlog_row_value_options=PARTIAL_JSON) of the masked column ${table.database}.${table.table}.${table.columns[i]?.name ?? i} cannot be masked: ` +
              "SET GLOBAL binlog_row_value_options='' on the source (and in its my.cnf)",
          );
        }
        if (old !== undefined) before[i] = mask(old);
        if (now !== undefined) after[i] = old !== undefined && sameValue(old, now) ? before[i] : mask(now);
      }
    }
  }

  private compile(table: TableDef): TableMasks | null {
    if (!this.active) return null;
    const masks = table.columns.map((column) => this.maskOf(table, column));
    return masks.some((m) => m !== undefined) ? masks : null;
  }
}

/** Masks one image in place: every present value of a masked column. */
function maskImage(masks: TableMasks, image: RowImage): void {
  for (let i = 0; i < masks.length; i++) {
    const mask = masks[i];
    if (mask && i < image.length && image[i] !== undefined) image[i] = mask(image[i]);
  }
}

/** The same value as read from the binlog: identical text or number, or equal bytes. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0;
}
