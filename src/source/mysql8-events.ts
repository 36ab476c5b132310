// Part of the zongji adapter: MySQL 8 events that zongji 0.9 does not
// decode, made into what it does, before it reads them, on the live stream
// and in `replay` alike:
// - a compressed transaction (TRANSACTION_PAYLOAD, 40): its events, one
//   packet each, as the server would have sent them uncompressed (see
//   binlog/transaction-payload.ts);
// - a partial JSON update (PARTIAL_UPDATE_ROWS, 39): read as the update
//   rows event it is, its JSON columns' changes kept as JsonDiffValues
//   (see binlog/json-diff.ts), which the SQL path applies;
// - a heartbeat v2 (41, sent to a replica that asks for it): a heartbeat;
// - a table map with VECTOR columns (MySQL 9, type 242, which zongji cannot
//   read, and whose metadata byte it would not skip, misreading the
//   columns after it): each made a binary BLOB, the same layout (a 4-byte
//   length, then the float32 values' bytes), read as its bytes.
// zongji's own handling of 39 and 40 is an error that stops the stream
// (unsupported-formats.ts), so nothing is ever skipped unseen.
// (Reached by the files' real paths, as zongji-raw.ts does.)
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EVENT_HEADER_BYTES, TABLE_MAP_EVENT, crc32 } from '../binlog/event-bytes.js';
import { TRANSACTION_PAYLOAD_EVENT, payloadEvents } from '../binlog/transaction-payload.js';
import { parseJsonDiffs, type JsonDiffValue } from '../binlog/json-diff.js';
import { COLUMN_TYPE } from '../binlog/column-types.js';
import { EventPacket } from './zongji-stand-in.js';

export const PARTIAL_UPDATE_ROWS_EVENT = 39;
export const HEARTBEAT_V2_EVENT = 41;
const UPDATE_ROWS_EVENT_V2 = 31;
const VECTOR = 242;
/** binlog_row_value_options bit of a partial update's after image: its JSON columns may hold changes. */
const PARTIAL_JSON_UPDATES = 1;

interface ZongjiParser {
  _buffer: Buffer;
  _offset: number;
  parseUnsignedNumber(bytes: number): number;
  parseLengthCodedNumber(): number;
  parseBuffer(length: number): Buffer;
}

interface ZongjiColumn {
  name: string;
  type: number;
  metadata?: { length_size?: number } | null;
}

interface ZongjiTableMap {
  columns: ZongjiColumn[];
  columnSchemas: unknown[];
}

interface ZongjiUpdateRows {
  _zongji: object;
  tableId: number;
  tableMap: Record<number, ZongjiTableMap>;
  columns_present_bitmap: Buffer;
  columns_present_bitmap2: Buffer;
  [PARTIAL]?: true;
}

interface Packet {
  buffer: Buffer;
  offset: number;
  end: number;
}

type BinlogData = (this: unknown, packet: Packet, connection: unknown) => unknown;

const root = dirname(realpathSync(createRequire(import.meta.url).resolve('@vlasky/zongji')));
const common = (await import(pathToFileURL(join(root, 'lib', 'common.js')).href)) as {
  readMysqlValue(parser: ZongjiParser, column: ZongjiColumn, schema: unknown, tableMap: ZongjiTableMap, zongji: object): unknown;
};
const json = (await import(pathToFileURL(join(root, 'lib', 'json_decode.js')).href)) as {
  default(binary: Buffer): unknown;
  jsonToText(value: unknown): string;
};
const rowsEvents = (await import(pathToFileURL(join(root, 'lib', 'rows_event.js')).href)) as { UpdateRows: { prototype: object } };

const PARTIAL: unique symbol = Symbol.for('binlog-sync.partialUpdate');
const installed = globalThis as { [PARTIAL]?: true };

/** Set while zongji reads a partial update rows event (synchronously, within the packet's turn). */
let readingPartial = false;

if (!installed[PARTIAL]) {
  installed[PARTIAL] = true;
  const proto = rowsEvents.UpdateRows.prototype as { _fetchOneRow(this: ZongjiUpdateRows, parser: ZongjiParser): unknown };
  const fetchOneRow = proto._fetchOneRow;
  proto._fetchOneRow = function (this: ZongjiUpdateRows, parser: ZongjiParser): unknown {
    if (!readingPartial && !this[PARTIAL]) return fetchOneRow.call(this, parser);
    this[PARTIAL] = true;
    return partialRow(this, parser);
  };
}

/** Whether zongji is reading a partial JSON update now (no other hook may take its packet: it is not the update rows event it looks like). */
export function readingPartialUpdate(): boolean {
  return readingPartial;
}

/** Whether zongji's rows event was a partial JSON update (its after images may hold JsonDiffValues). */
export function isPartialUpdate(event: object): boolean {
  return (event as ZongjiUpdateRows)[PARTIAL] === true;
}

/**
 * One row of a partial update: the before image, the after image's value
 * options (and, with PARTIAL_JSON_UPDATES, one bit per JSON column of the
 * table: whether it holds changes), then the after image.
 */
function partialRow(event: ZongjiUpdateRows, parser: ZongjiParser): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const table = event.tableMap[event.tableId]!;
  const before = readImage(parser, table, event.columns_present_bitmap, event._zongji, undefined);
  const options = parser.parseLengthCodedNumber();
  let partial: Set<number> | undefined;
  if ((options & PARTIAL_JSON_UPDATES) !== 0) {
    const jsonColumns = table.columns.flatMap((c, i) => (c.type === COLUMN_TYPE.JSON ? [i] : []));
    const bits = parser.parseBuffer(Math.ceil(jsonColumns.length / 8));
    partial = new Set(jsonColumns.filter((_, n) => (bits[n >> 3]! & (1 << (n & 7))) !== 0));
  }
  const after = readImage(parser, table, event.columns_present_bitmap2, event._zongji, partial);
  return { before, after };
}

/** A row image as zongji's reads it, the JSON columns in `partial` read as their changes. */
function readImage(parser: ZongjiParser, table: ZongjiTableMap, present: Buffer, zongji: object, partial: Set<number> | undefined): Record<string, unknown> {
  const bit = (bytes: Buffer, i: number): boolean => (bytes[i >> 3]! & (1 << (i & 7))) !== 0;
  let count = 0;
  for (let i = 0; i < table.columns.length; i++) if (bit(present, i)) count++;
  const nulls = parser.parseBuffer(Math.ceil(count / 8));
  const row: Record<string, unknown> = {};
  for (let i = 0, n = 0; i < table.columns.length; i++) {
    const column = table.columns[i]!;
    if (!bit(present, i)) {
      row[column.name] = null;
      continue;
    }
    if (bit(nulls, n++)) row[column.name] = null;
    else if (partial?.has(i)) row[column.name] = jsonDiffValue(parser, column);
    else row[column.name] = common.readMysqlValue(parser, column, table.columnSchemas[i], table, zongji);
  }
  return row;
}

function jsonDiffValue(parser: ZongjiParser, column: ZongjiColumn): JsonDiffValue {
  const size = parser.parseUnsignedNumber(column.metadata?.length_size ?? 4);
  const bytes = parser.parseBuffer(size);
  return { jsonDiffs: parseJsonDiffs(bytes, (binary) => (binary.length === 0 ? 'null' : json.jsonToText(json.default(binary)))) };
}

export interface Mysql8EventsOptions {
  /** A heartbeat v2 arrived: the source's binlog file and position (0 when it says none). */
  onHeartbeat: (file: string, position: number) => void;
}

/**
 * Has the stream's zongji read MySQL 8's compressed transactions, partial
 * JSON updates and heartbeats v2 (see the top of this file): call once
 * zongji is ready (its packet reader exists then), after any other hook on
 * its packets (keepFormatDescriptions), so that the events a compressed
 * transaction holds go through those too.
 */
export function decodeMysql8Events(zongji: object, options: Mysql8EventsOptions): void {
  const Binlog = (zongji as { BinlogClass?: { prototype: { binlogData: BinlogData } } }).BinlogClass;
  if (!Binlog) throw new Error('internal: zongji has no binlog reader yet');
  const read = Binlog.prototype.binlogData;
  const stream = zongji as { useChecksum?: boolean };
  Binlog.prototype.binlogData = function binlogData(this: unknown, packet: Packet, connection: unknown): unknown {
    const at = packet.offset;
    if (packet.buffer[at] !== 0 || packet.end - at < 1 + EVENT_HEADER_BYTES) return read.call(this, packet, connection);
    const type = packet.buffer[at + 1 + 4];
    if (type === TRANSACTION_PAYLOAD_EVENT) {
      const checksums = stream.useChecksum === true;
      let next: unknown = Binlog.prototype.binlogData;
      for (const event of payloadEvents(packet.buffer.subarray(at + 1, packet.end), checksums)) {
        const inner = Buffer.allocUnsafe(1 + event.length);
        inner[0] = 0;
        event.copy(inner, 1);
        // (Each as if it came alone, through the hooks inside this one.)
        next = Binlog.prototype.binlogData.call(this, new EventPacket(inner, 0, inner.length), connection);
        if (!next) return next;
      }
      return next;
    }
    if (type === PARTIAL_UPDATE_ROWS_EVENT) {
      // Its layout is an update rows event's (v2) up to the after image: read as one, with its rows read here.
      packet.buffer[at + 1 + 4] = UPDATE_ROWS_EVENT_V2;
      readingPartial = true;
      try {
        return read.call(this, packet, connection);
      } finally {
        readingPartial = false;
      }
    }
    if (type === TABLE_MAP_EVENT) vectorsAsBlobs(packet.buffer.subarray(at + 1, packet.end), stream.useChecksum === true);
    if (type === HEARTBEAT_V2_EVENT) {
      const heartbeat = heartbeatV2(packet.buffer.subarray(at + 1 + EVENT_HEADER_BYTES, packet.end - (stream.useChecksum ? 4 : 0)));
      options.onHeartbeat(heartbeat.file, heartbeat.position);
      return Binlog.prototype.binlogData;
    }
    return read.call(this, packet, connection);
  };
}

/**
 * A heartbeat v2's body (MySQL's Heartbeat_event_v2): fields of (type,
 * length, value), each a length-encoded integer but the value, up to a type
 * 0: 1 the binlog file's name, 2 the position (a length-encoded integer).
 * What cannot be read leaves the file empty and the position 0: a
 * heartbeat still says the stream is alive.
 */
export function heartbeatV2(body: Buffer): { file: string; position: number } {
  let file = '';
  let position = 0;
  let at = 0;
  const lengthEncoded = (): number | undefined => {
    const first = body[at];
    if (first === undefined) return undefined;
    at++;
    if (first < 251) return first;
    const size = first === 252 ? 2 : first === 253 ? 3 : first === 254 ? 8 : 0;
    if (size === 0 || at + size > body.length) return undefined;
    const value = size === 8 ? Number(body.readBigUInt64LE(at)) : body.readUIntLE(at, size);
    at += size;
    return value;
  };
  for (;;) {
    const type = lengthEncoded();
    if (type === undefined || type === 0) break;
    const length = lengthEncoded();
    if (length === undefined || at + length > body.length) break;
    const end = at + length;
    if (type === 1) file = body.toString('utf8', at, end);
    else if (type === 2) position = lengthEncoded() ?? 0;
    at = end;
  }
  return { file, position };
}

/**
 * A table map's VECTOR columns (MySQL 9) made binary BLOBs, in place (and
 * its checksum made anew): the same metadata (the length's size) and row
 * layout, and a character column of the binary character set in the
 * optional metadata, as VECTOR is. True when it had any.
 */
export function vectorsAsBlobs(event: Buffer, checksums: boolean): boolean {
  let at = EVENT_HEADER_BYTES + 8;
  at += 1 + event[at]! + 1; // the database's name, and its NUL
  at += 1 + event[at]! + 1; // the table's
  const first = event[at]!;
  const size = first < 251 ? 1 : first === 252 ? 3 : first === 253 ? 4 : 9;
  const count = size === 1 ? first : size === 9 ? Number(event.readBigUInt64LE(at + 1)) : event.readUIntLE(at + 1, size - 1);
  at += size;
  let changed = false;
  for (let i = 0; i < count && at + i < event.length; i++) {
    if (event[at + i] === VECTOR) {
      event[at + i] = COLUMN_TYPE.BLOB;
      changed = true;
    }
  }
  if (changed && checksums) event.writeUInt32LE(crc32(event.subarray(0, event.length - 4)), event.length - 4);
  return changed;
}
