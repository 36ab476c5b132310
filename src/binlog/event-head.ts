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
  /** Where its columns-present bitmaps are (of `bitmapBytes` each): the before image's (or the only one), and an update's after image's (-1: none). */
  presentAt: number;
  presentAfterAt: number;
  bitmapBytes: number;
  /** The first row's first byte. */
  rowsStart: number;
}

/** What rowsHead() answers in: one object, filled anew by each call (it runs for every rows event). */
const head: RowsHead = { kind: 'insert', tableId: 0, flags: 0, columns: 0, presentAt: 0, presentAfterAt: -1, bitmapBytes: 0, rowsStart: 0 };

/**
 * A rows event's head, or undefined when it is not a plain rows event or
 * does not fit in `end`. The answer is valid until the next call.
 */
export function rowsHead(bytes: Uint8Array, at: number, end: number): Readonly<RowsHead> | undefined {
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
  head.presentAt = p;
  p += bitmapBytes;
  head.presentAfterAt = -1;
  if (kind === 'update') {
    head.presentAfterAt = p;
    p += bitmapBytes;
  }
  if (p > end) return undefined;
  head.kind = kind;
  head.tableId = eventTableId(bytes, at);
  head.flags = flags;
  head.columns = columns;
  head.bitmapBytes = bitmapBytes;
  head.rowsStart = p;
  return head;
}

/** Whether the first `count` bits of the bitmap at bytes[at] are all set (every column in the image). */
export function allSetAt(bytes: Uint8Array, at: number, count: number): boolean {
  for (let i = 0; i < count; i++) if ((bytes[at + (i >> 3)]! & (1 << (i & 7))) === 0) return false;
  return true;
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)) + bytes[at + 3]! * 0x100_0000;
}
