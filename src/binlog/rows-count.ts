// Pure: how many rows a rows event carries, counted over its bytes without
// decoding a value. Rows events that go to the replica as they are (BINLOG
// statements, see apply/binlog-rows.ts) need nothing else of their rows;
// decoding every value only to count them was most of the decoding
// thread's work.
//
// A rows event's row area is, per row, one image (inserts, deletes) or two
// (updates: before, then after). An image is a null bitmap of one bit per
// column present in the image (the event's columns-present bitmap), then
// the value of each present, non-null column, in column order, as the
// server packs it (Field::pack): a fixed width by type and table map
// metadata, or a length of 1 to 4 bytes (little-endian) and that many
// bytes. The widths follow the server's own (rpl_utility.cc,
// calc_field_size) and what zongji reads (lib/common.js, readMysqlValue).
// A type whose width the binlog alone does not settle, or any unknown one,
// makes the table uncountable: its events are decoded as before.

/** A column as the table map describes it: zongji's `tableMap[id].columns` entries fit (ENUM and SET with their real type). */
export interface ColumnLayout {
  type: number;
  metadata?:
    | {
        max_length?: number;
        length_size?: number;
        size?: number;
        bits?: number;
        precision?: number;
        decimals?: number;
      }
    | undefined;
}

/**
 * Per column, how its value is laid out in a row image: a fixed width
 * (> 0), or -n for a value after an n-byte length.
 */
export type RowsLayout = Int32Array;

import { COLUMN_TYPE as T } from './column-types.js';

/** Bytes of a DECIMAL's leftover digits (fewer than 9), as decimal2bin packs them. */
const DIG2BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/** Bytes of a packed DECIMAL(precision, scale): 4 per 9 digits, and the rest, on either side of the point. */
export function decimalBytes(precision: number, scale: number): number {
  const integral = precision - scale;
  return Math.floor(integral / 9) * 4 + DIG2BYTES[integral % 9]! + Math.floor(scale / 9) * 4 + DIG2BYTES[scale % 9]!;
}

/**
 * How each column's values are laid out, or undefined when one of them
 * cannot be sized from the table map alone:
 * - TIMESTAMP, TIME and DATETIME (the classic codes): MariaDB logs its
 *   older "hires" columns, whose width depends on their precision, under
 *   the same codes with the same (empty) metadata (zongji asks the
 *   column's definition);
 * - DECIMAL (pre-5.0), NEWDATE, NULL and VAR_STRING never appear in a row
 *   image the server writes; zongji does not read them either.
 */
export function rowsLayout(columns: readonly ColumnLayout[]): RowsLayout | undefined {
  const layout = new Int32Array(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const width = valueWidth(columns[i]!);
    if (width === undefined) return undefined;
    layout[i] = width;
  }
  return layout;
}

function valueWidth(column: ColumnLayout): number | undefined {
  const m = column.metadata;
  switch (column.type) {
    case T.TINY:
    case T.YEAR:
      return 1;
    case T.SHORT:
      return 2;
    case T.INT24:
    case T.DATE:
      return 3;
    case T.LONG:
    case T.FLOAT:
      return 4;
    case T.LONGLONG:
    case T.DOUBLE:
      return 8;
    case T.TIME2:
    case T.TIMESTAMP2:
    case T.DATETIME2: {
      const decimals = m?.decimals ?? 0;
      if (!Number.isInteger(decimals) || decimals < 0 || decimals > 6) return undefined;
      const base = column.type === T.TIME2 ? 3 : column.type === T.TIMESTAMP2 ? 4 : 5;
      return base + Math.ceil(decimals / 2);
    }
    case T.NEWDECIMAL: {
      const precision = m?.precision;
      const scale = m?.decimals;
      if (precision === undefined || scale === undefined || precision < 1 || scale < 0 || scale > precision) return undefined;
      return decimalBytes(precision, scale);
    }
    case T.BIT: {
      const bits = m?.bits;
      return bits !== undefined && bits >= 1 ? Math.ceil(bits / 8) : undefined;
    }
    case T.ENUM:
    case T.SET: {
      const size = m?.size;
      return size !== undefined && size >= 1 && size <= 8 ? size : undefined;
    }
    case T.STRING:
    case T.VARCHAR:
    case T.VARCHAR_COMPRESSED: {
      const max = m?.max_length;
      if (max === undefined) return undefined;
      return max > 255 ? -2 : -1;
    }
    case T.BLOB:
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB_COMPRESSED:
    case T.JSON:
    case T.GEOMETRY: {
      const size = m?.length_size;
      return size !== undefined && size >= 1 && size <= 4 ? -size : undefined;
    }
    default:
      return undefined;
  }
}

/** How many of the first `count` bits of a bitmap are set. */
function bitsSet(bitmap: Uint8Array, count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) if ((bitmap[i >> 3]! & (1 << (i & 7))) !== 0) n++;
  return n;
}

/**
 * The rows in bytes[start, end) (a rows event's row area: after its
 * columns-present bitmaps, before its checksum), or undefined when they do
 * not walk to exactly `end` (the layout does not fit the event). `present`
 * is the event's columns-present bitmap, `presentAfter` an update's second
 * one (two images per row).
 */
export function countRows(
  bytes: Uint8Array,
  start: number,
  end: number,
  layout: RowsLayout,
  present: Uint8Array,
  presentAfter?: Uint8Array,
): number | undefined {
  const columns = layout.length;
  if (present.length * 8 < columns || (presentAfter && presentAfter.length * 8 < columns) || end > bytes.length || start > end) return undefined;
  const nullBytes = (bitsSet(present, columns) + 7) >> 3;
  const nullBytesAfter = presentAfter ? (bitsSet(presentAfter, columns) + 7) >> 3 : 0;
  let at = start;
  let rows = 0;
  while (at < end) {
    const from = at;
    at = skipImage(bytes, at, end, layout, present, nullBytes);
    if (presentAfter && at >= 0) at = skipImage(bytes, at, end, layout, presentAfter, nullBytesAfter);
    // (A row of no bytes, no column present, would never end.)
    if (at <= from) return undefined;
    rows++;
  }
  return at === end ? rows : undefined;
}

/** Where the image at `at` ends, or -1 past `end`. */
function skipImage(bytes: Uint8Array, at: number, end: number, layout: RowsLayout, present: Uint8Array, nullBytes: number): number {
  const nulls = at;
  at += nullBytes;
  if (at > end) return -1;
  let bit = 0;
  for (let i = 0; i < layout.length; i++) {
    if ((present[i >> 3]! & (1 << (i & 7))) === 0) continue;
    const isNull = (bytes[nulls + (bit >> 3)]! & (1 << (bit & 7))) !== 0;
    bit++;
    if (isNull) continue;
    const width = layout[i]!;
    if (width > 0) {
      at += width;
    } else {
      const lengthBytes = -width;
      if (at + lengthBytes > end) return -1;
      let length = bytes[at]!;
      if (lengthBytes > 1) length += bytes[at + 1]! << 8;
      if (lengthBytes > 2) length += bytes[at + 2]! << 16;
      if (lengthBytes > 3) length += bytes[at + 3]! * 0x1000000;
      at += lengthBytes + length;
    }
    if (at > end) return -1;
  }
  return at;
}

// Rows event layout (rows_event.h), for counting a whole event's rows.
const HEADER_BYTES = 19;
const CHECKSUM_BYTES = 4;
/** Rows events: v1 (MariaDB, MySQL 5.1-5.5), v2 (MySQL 5.6+, with extra data after the flags). */
const ROWS_V1 = new Set([23, 24, 25]);
const ROWS_V2 = new Set([30, 31, 32]);
const UPDATES = new Set([24, 31]);

/**
 * The rows of a whole rows event (header, body, and a CRC32 when
 * `checksums`), or undefined when it is not a plain rows event of `layout`'s
 * columns (compressed ones included: their rows are packed) or its rows do
 * not add up. Post-header of 8 bytes (a 6-byte table id and flags), as
 * every server since 5.1 writes it.
 */
export function countEventRows(event: Uint8Array, layout: RowsLayout, checksums: boolean): number | undefined {
  const type = event[4]!;
  if (!ROWS_V1.has(type) && !ROWS_V2.has(type)) return undefined;
  const end = event.length - (checksums ? CHECKSUM_BYTES : 0);
  let at = HEADER_BYTES + 8;
  if (ROWS_V2.has(type)) {
    if (at + 2 > end) return undefined;
    const extra = event[at]! | (event[at + 1]! << 8);
    if (extra < 2) return undefined;
    at += extra;
  }
  if (at >= end) return undefined;
  // (A length-encoded integer; a table has at most 4096 columns, so 1 or 3 bytes.)
  let columns = event[at]!;
  if (columns === 252) {
    columns = event[at + 1]! | (event[at + 2]! << 8);
    at += 3;
  } else if (columns < 251) {
    at += 1;
  } else {
    return undefined;
  }
  if (columns !== layout.length) return undefined;
  const bitmapBytes = (columns + 7) >> 3;
  const present = event.subarray(at, at + bitmapBytes);
  at += bitmapBytes;
  let presentAfter: Uint8Array | undefined;
  if (UPDATES.has(type)) {
    presentAfter = event.subarray(at, at + bitmapBytes);
    at += bitmapBytes;
  }
  if (at > end) return undefined;
  return countRows(event, at, end, layout, present, presentAfter);
}
