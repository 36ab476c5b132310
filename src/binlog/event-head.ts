// Pure: the few fields of the commonest events that the stream reads
// straight from a packet's bytes, without zongji building an event object
// (see source/pass-through.ts): the common header, a MariaDB GTID event,
// and the start of a rows event (table id, flags, columns-present bitmaps).
// Offsets are from the event's first header byte; `end` is where its body
// ends (before the checksum, if any).
import { EVENT_HEADER_BYTES } from './event-bytes.js';

export const XID_EVENT = 16;
export const MARIADB_GTID_EVENT = 162;
/** Rows events: v1 (MariaDB) write, update, delete; v2 (MySQL 5.6+) the same three. */
export const ROWS_EVENT_KINDS: Readonly<Record<number, 'insert' | 'update' | 'delete'>> = {
  23: 'insert',
  24: 'update',
  25: 'delete',
  30: 'insert',
  31: 'update',
  32: 'delete',
};
const ROWS_V2_FIRST = 30;

// MariaDB GTID event flags (log_event.h, FL_*).
const FL_STANDALONE = 1;
const FL_PREPARED_XA = 64;
const FL_COMPLETED_XA = 128;

/** Header fields: seconds since the epoch (4 at 0), type (1 at 4), server id (4 at 5), length (4 at 9), next position (4 at 13). */
export function headerTimestampMs(bytes: Uint8Array, at: number): number {
  return readU32(bytes, at) * 1000;
}

export function headerServerId(bytes: Uint8Array, at: number): number {
  return readU32(bytes, at + 5);
}

export function headerNextPosition(bytes: Uint8Array, at: number): number {
  return readU32(bytes, at + 13);
}

/** A table map or rows event's table id: 6 bytes after the header. */
export function eventTableId(bytes: Uint8Array, at: number): number {
  const p = at + EVENT_HEADER_BYTES;
  return readU32(bytes, p) + (bytes[p + 4]! + bytes[p + 5]! * 0x100) * 0x1_0000_0000;
}

/**
 * A MariaDB GTID event's GTID and whether it opens a transaction (not
 * standalone), or undefined when it belongs to an XA transaction (read by
 * zongji: its XID follows) or is too short.
 */
export function mariadbGtid(bytes: Uint8Array, at: number, end: number): { gtid: string; impliesBegin: boolean } | undefined {
  const p = at + EVENT_HEADER_BYTES;
  if (end - p < 13) return undefined;
  const flags = bytes[p + 12]!;
  if (flags & (FL_PREPARED_XA | FL_COMPLETED_XA)) return undefined;
  const low = readU32(bytes, p);
  const high = readU32(bytes, p + 4);
  // (Exact as a number below 2^53, else as a BigInt's digits.)
  const seq = high < 0x20_0000 ? String(high * 0x1_0000_0000 + low) : ((BigInt(high) << 32n) | BigInt(low)).toString();
  return { gtid: `${readU32(bytes, p + 8)}-${headerServerId(bytes, at)}-${seq}`, impliesBegin: (flags & FL_STANDALONE) === 0 };
}

/** Where a rows event's rows are, and what its post-header says. */
export interface RowsHead {
  kind: 'insert' | 'update' | 'delete';
  tableId: number;
  flags: number;
  columns: number;
  /** Columns-present bitmaps (views): the before image's (or the only one), and an update's after image's. */
  present: Uint8Array;
  presentAfter: Uint8Array | undefined;
  /** The first row's first byte. */
  rowsStart: number;
}

/** A rows event's head, or undefined when it is not a plain rows event or does not fit in `end`. */
export function rowsHead(bytes: Uint8Array, at: number, end: number): RowsHead | undefined {
  const type = bytes[at + 4]!;
  const kind = ROWS_EVENT_KINDS[type];
  if (kind === undefined) return undefined;
  let p = at + EVENT_HEADER_BYTES + 6;
  const flags = bytes[p]! | (bytes[p + 1]! << 8);
  p += 2;
  // v2: extra data, its length counting its own two bytes.
  if (type >= ROWS_V2_FIRST) p += bytes[p]! | (bytes[p + 1]! << 8);
  if (p >= end) return undefined;
  // The column count, a length-encoded integer (one byte below 251).
  let columns = bytes[p]!;
  p += 1;
  if (columns === 252) {
    columns = bytes[p]! | (bytes[p + 1]! << 8);
    p += 2;
  } else if (columns >= 251) return undefined;
  const bitmapBytes = (columns + 7) >> 3;
  const present = bytes.subarray(p, p + bitmapBytes);
  p += bitmapBytes;
  let presentAfter: Uint8Array | undefined;
  if (kind === 'update') {
    presentAfter = bytes.subarray(p, p + bitmapBytes);
    p += bitmapBytes;
  }
  if (p > end) return undefined;
  return { kind, tableId: eventTableId(bytes, at), flags, columns, present, presentAfter, rowsStart: p };
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)) + bytes[at + 3]! * 0x100_0000;
}
