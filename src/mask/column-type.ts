// What a masked value must fit: a column's type read from its COLUMN_TYPE
// text, as information_schema writes it (`int(11) unsigned`, `varchar(64)`)
// and as the binlog's own metadata spells it (`int unsigned`, see zongji's
// table map), plus its character set. Pure.

export type ColumnFit =
  /** CHAR/VARCHAR (limit in characters) and the TEXT types (limit in bytes). */
  | { kind: 'text'; maxChars: number; fixed: boolean; charset: string; collation?: string }
  /** BINARY/VARBINARY and the BLOB types. */
  | { kind: 'binary'; maxBytes: number; fixed: boolean }
  | { kind: 'integer'; bits: number; unsigned: boolean }
  | { kind: 'decimal'; precision: number; scale: number; unsigned: boolean }
  | { kind: 'json' }
  /** Anything else (dates, ENUM, BIT, spatial, FLOAT...): only null and fixed apply. */
  | { kind: 'other'; type: string };

const INTEGER_BITS: Record<string, number> = { tinyint: 8, smallint: 16, mediumint: 24, int: 32, integer: 32, bigint: 64 };
const TEXT_BYTES: Record<string, number> = { tinytext: 255, text: 65_535, mediumtext: 16_777_215, longtext: 4_294_967_295 };
const BLOB_BYTES: Record<string, number> = { tinyblob: 255, blob: 65_535, mediumblob: 16_777_215, longblob: 4_294_967_295 };

/** Bytes an ASCII character takes in a character set (the masks write ASCII, fixed values aside). */
export function asciiWidth(charset: string): number {
  const cs = charset.toLowerCase();
  if (cs === 'utf32') return 4;
  if (cs === 'utf16' || cs === 'utf16le' || cs === 'ucs2') return 2;
  return 1;
}

/** The fit of a column, from its COLUMN_TYPE, character set (null or absent for binary types) and collation. */
export function columnFit(columnType: string, charset: string | null | undefined, collation?: string | null): ColumnFit {
  const fit = baseFit(columnType, charset);
  return fit.kind === 'text' && collation ? { ...fit, collation } : fit;
}

function baseFit(columnType: string, charset: string | null | undefined): ColumnFit {
  const text = columnType.trim().toLowerCase();
  const m = /^([a-z]+)\s*(?:\(([^)]*)\))?\s*(.*)$/.exec(text);
  const base = m?.[1] ?? text;
  const args = (m?.[2] ?? '').split(',').map((s) => Number(s.trim()));
  const unsigned = /\bunsigned\b/.test(m?.[3] ?? '');
  const n = args[0];
  if (base in INTEGER_BITS) return { kind: 'integer', bits: INTEGER_BITS[base]!, unsigned };
  if (base === 'decimal' || base === 'numeric' || base === 'dec' || base === 'fixed') {
    return { kind: 'decimal', precision: Number.isFinite(n) && n! > 0 ? n! : 10, scale: Number.isFinite(args[1]) ? args[1]! : 0, unsigned };
  }
  if (base === 'json') return { kind: 'json' };
  if (base === 'char' || base === 'varchar') {
    return { kind: 'text', maxChars: Number.isFinite(n) ? n! : 1, fixed: base === 'char', charset: charset ?? 'utf8mb4' };
  }
  if (base in TEXT_BYTES) {
    const cs = charset ?? 'utf8mb4';
    return { kind: 'text', maxChars: Math.floor(TEXT_BYTES[base]! / asciiWidth(cs)), fixed: false, charset: cs };
  }
  if (base === 'binary' || base === 'varbinary') return { kind: 'binary', maxBytes: Number.isFinite(n) ? n! : 1, fixed: base === 'binary' };
  if (base in BLOB_BYTES) return { kind: 'binary', maxBytes: BLOB_BYTES[base]!, fixed: false };
  return { kind: 'other', type: base };
}

/** The column's type in words, for messages. */
export function describeFit(fit: ColumnFit): string {
  switch (fit.kind) {
    case 'text':
      return `a text column of ${fit.maxChars} characters`;
    case 'binary':
      return `a binary column of ${fit.maxBytes} bytes`;
    case 'integer':
      return `an integer column (${fit.bits} bits${fit.unsigned ? ', unsigned' : ''})`;
    case 'decimal':
      return `a DECIMAL(${fit.precision},${fit.scale}) column`;
    case 'json':
      return 'a JSON column';
    case 'other':
      return `a ${fit.type.toUpperCase()} column`;
  }
}
