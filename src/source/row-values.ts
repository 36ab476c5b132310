// Pure: the values zongji decodes, made exact where its decoding would not
// round-trip (values that have no plain text form, found by running
// MariaDB's own test suite through binlog-sync). The column kinds that need
// them are chosen in binlog-source.ts, which also has zongji read ENUM, SET
// and UTF-8 text as numbers and bytes (see switchColumns there).
import { isUtf8 } from 'node:buffer';
import type { ColumnDef, RowImage, RowsData, RowsKind, TableDef } from './events.js';

/**
 * An ENUM's index or a SET's bits, read by zongji as an unsigned integer:
 * a number, or an exact decimal string past 2^53 (a SET of up to 64
 * members), made a BigInt so that it is written as a number, never as a
 * quoted string (which the server would first look up among the members'
 * names: a SET member may be called '3').
 */
export function memberNumber(value: unknown): unknown {
  return typeof value === 'string' && /^\d+$/.test(value) ? BigInt(value) : value;
}

/**
 * UTF-8 text read as its bytes: a string when they are valid UTF-8 (nearly
 * always), else the bytes as they are. MariaDB's utf8mb3 and utf8mb4 take
 * the encodings of UTF-16 surrogates (ED A0 80 to ED BF BF: CHAR(55296
 * USING utf32) stored in a utf8mb4 column), which no JavaScript string can
 * hold: decoded, they would become U+FFFD. The bytes are written as a
 * binary string, which the server stores unconverted into the text column.
 */
export function textOrBytes(value: unknown): unknown {
  if (!Buffer.isBuffer(value)) return value;
  return isUtf8(value) ? value.toString('utf8') : value;
}

/**
 * A TIME value as zongji decodes it (TIME2, MySQL 5.6's format, which
 * MariaDB writes too), made right for negative whole seconds. zongji takes
 * a negative value's bits one's-complemented, which is the magnitude minus
 * one, and adds the one back to the seconds field alone, without a carry:
 * '-24:00:00' comes out as '-23:63:64' (which the server would store as
 * 00:00:00). A seconds field of 64 only ever comes from that, and is
 * carried into the minutes and hours here. Values with a fraction are
 * right already (the magnitude's integer part is stored one lower there).
 */
export function fixTime(value: unknown, hhmmss = false): unknown {
  if (typeof value !== 'string') return value;
  if (hhmmss) return fixOldTime(value);
  const m = /^-(\d+):(\d\d):64(\.\d+)?$/.exec(value);
  if (!m) return value;
  // The fields are bits of the packed value: hour << 12 | minute << 6 | second.
  const packed = (Number(m[1]) << 12) | (Number(m[2]) << 6) | 63;
  const magnitude = packed + 1;
  const hour = magnitude >> 12;
  const minute = (magnitude >> 6) & 63;
  const second = magnitude & 63;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `-${pad(hour)}:${pad(minute)}:${pad(second)}${m[3] ?? ''}`;
}

/**
 * The same for MariaDB's TIME of before 10.0 (mysql56_temporal_format=OFF,
 * a TIME without fractions), stored as the decimal HHMMSS: zongji reads the
 * magnitude minus one, adds the one to the seconds alone and prints their
 * last two digits, so a negative value with seconds 00 (which always
 * borrows) comes out as that minus 100 seconds: '-24:00:00' as '-23:99:00'.
 * No other negative value shows seconds 00.
 */
function fixOldTime(value: string): string {
  const m = /^-(\d+):(\d\d):00$/.exec(value);
  if (!m) return value;
  const magnitude = Number(m[1]) * 10_000 + Number(m[2]) * 100 + 100;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `-${pad(Math.floor(magnitude / 10_000))}:${pad(Math.floor(magnitude / 100) % 100)}:${pad(magnitude % 100)}`;
}

/** zongji's decoded rows as our row images (values by column index). */
export function decodedRows(kind: RowsKind, table: TableDef, decoded: unknown[], present: boolean[], presentAfter: boolean[] | undefined): RowsData['rows'] {
  const { columns } = table;
  const image = (row: Record<string, unknown>, flags: boolean[]): RowImage => {
    const values: RowImage = new Array(columns.length);
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!;
      values[i] = flags[i] ? (c.kind === 'plain' ? row[c.name] : normaliseValue(c, row[c.name])) : undefined;
    }
    return values;
  };
  return kind === 'update'
    ? (decoded as Array<{ before: Record<string, unknown>; after: Record<string, unknown> }>).map((r) => ({
        before: image(r.before, present),
        after: image(r.after, presentAfter!),
      }))
    : (decoded as Array<Record<string, unknown>>).map((r) => (kind === 'insert' ? { after: image(r, present) } : { before: image(r, present) }));
}

/**
 * Undoes zongji conventions that would not round-trip (see row-values.ts):
 * text read as bytes, ENUM and SET numbers, negative TIME, the zero YEAR
 * (read as 1900), and the zero TIMESTAMP (stored as epoch 0, read as the
 * epoch itself).
 */
function normaliseValue(column: ColumnDef, value: unknown): unknown {
  if (column.kind === 'text') return textOrBytes(value);
  if (column.kind === 'enum' || column.kind === 'set') return memberNumber(value);
  if (column.kind === 'time') return fixTime(value, column.hhmmss);
  if (column.kind === 'year' && value === 1900) return 0;
  if (column.kind === 'timestamp' && typeof value === 'string') {
    const zero = /^1970-01-01 00:00:00(\.0+)?$/.exec(value);
    if (zero) return `0000-00-00 00:00:00${zero[1] ?? ''}`;
  }
  return value;
}
