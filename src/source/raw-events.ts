// Part of the zongji adapter: keeps the bytes of the events the replica may
// apply itself (BINLOG statements, see apply/binlog-rows.ts): the format
// description event, table maps and rows events. zongji decodes events from
// its parser and keeps no bytes; every table map and rows event reads its
// table id first (BinlogEvent._readTableId), when the parser stands at the
// event's body, so the whole event (header, body, checksum) is a view of the
// packet from 19 bytes before it. The format description event reads
// nothing: its bytes are taken as its packet arrives. (zongji 0.9 exposes
// neither; reached by the files' real paths, as zongji-raw.ts does.)
//
// And it spares zongji decoding the rows of the events that go as they are:
// those rows are only counted (see countRowsInstead).
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EVENT_HEADER_BYTES, FORMAT_DESCRIPTION_EVENT } from '../binlog/event-bytes.js';
import { countRows, type RowsLayout } from '../binlog/rows-count.js';

interface ZongjiParser {
  _buffer: Buffer;
  _offset: number;
  readonly _packetEnd: number;
}

/** What the row hook reads of zongji's rows event (lib/rows_event.js), once its columns-present bitmaps are read. */
/** Where an event's bytes are: its packet's buffer, from the header to the end (checksum included). */
interface RawBytes {
  buffer: Buffer;
  start: number;
  end: number;
  view: Uint8Array | undefined;
}

interface ZongjiRowsEvent {
  _zongji: object;
  _hasTwoRows: boolean;
  tableId: number;
  numberOfColumns: number;
  columns_present_bitmap: Buffer;
  columns_present_bitmap2?: Buffer;
  rows: unknown[];
  [RAW]?: RawBytes;
  [COUNTED]?: number;
}

type FetchOneRow = (this: ZongjiRowsEvent, parser: ZongjiParser) => unknown;

interface Packet {
  buffer: Buffer;
  offset: number;
  end: number;
}

const root = dirname(realpathSync(createRequire(import.meta.url).resolve('@vlasky/zongji')));
const events = (await import(pathToFileURL(join(root, 'lib', 'binlog_event.js')).href)) as { TableMap: { prototype: object } };
const rowsEvents = (await import(pathToFileURL(join(root, 'lib', 'rows_event.js')).href)) as {
  WriteRows: { prototype: object };
  UpdateRows: { prototype: object };
};

const RAW: unique symbol = Symbol.for('binlog-sync.rawEvent');
const COUNTED: unique symbol = Symbol.for('binlog-sync.countedRows');
/** (On the zongji instance, not in a map of this module: the hooks are installed once per process, by whichever copy of it loads first.) */
const COUNTING: unique symbol = Symbol.for('binlog-sync.rowsCounting');
const installed = globalThis as { [RAW]?: true };

if (!installed[RAW]) {
  installed[RAW] = true;
  const base = Object.getPrototypeOf(events.TableMap.prototype) as { _readTableId(this: { [RAW]?: RawBytes }, parser: ZongjiParser): void; gtid?: string };
  // zongji labels every event it emits with the current transaction's GTID
  // unless it has a `gtid` of its own ('gtid' in event): a property added
  // to every event object, a new shape each time (2 % of the decoding
  // thread's work). binlog-sync takes GTIDs from the GTID events alone,
  // which set their own: with `gtid` on the prototype, no event is labelled.
  base.gtid = undefined;
  const readTableId = base._readTableId;
  base._readTableId = function (this: { [RAW]?: RawBytes }, parser: ZongjiParser): void {
    // (Where they are: a view is made only when asked for, see rawEvent.)
    this[RAW] = { buffer: parser._buffer, start: parser._offset - EVENT_HEADER_BYTES, end: parser._packetEnd, view: undefined };
    readTableId.call(this, parser);
  };
  // zongji's rows event reads its rows one _fetchOneRow call at a time,
  // from the first row's bytes (its bitmaps read, its checksum left out of
  // the parser's end, a compressed event's rows inflated) to the end. On the
  // first call, the stream may have the rows counted instead: the parser
  // then moves to the end, and the event's rows are one placeholder.
  const RowsEvent = Object.getPrototypeOf(rowsEvents.WriteRows.prototype) as { _fetchOneRow: FetchOneRow };
  for (const proto of [RowsEvent, rowsEvents.UpdateRows.prototype as { _fetchOneRow: FetchOneRow }]) {
    const fetchOneRow = proto._fetchOneRow;
    if (typeof fetchOneRow !== 'function') throw new Error('internal: zongji rows events read no rows with _fetchOneRow');
    proto._fetchOneRow = function (this: ZongjiRowsEvent, parser: ZongjiParser): unknown {
      if (this.rows.length === 0 && countInstead(this, parser)) return undefined;
      return fetchOneRow.call(this, parser);
    };
  }
}

/** Plain rows events (v1: MariaDB; v2: MySQL): not the compressed ones, whose rows are zongji's inflated copy. */
const PLAIN_ROWS_EVENTS = new Set([23, 24, 25, 30, 31, 32]);

/**
 * Per stream (its zongji): the layout of the table's rows when its rows
 * event (of `eventBytes`) needs no decoding, only its rows counted;
 * undefined to decode it.
 */
export type RowsCounting = (tableId: number, eventBytes: number) => RowsLayout | undefined;

/** From now on, the stream's rows events that `decide` picks have their rows counted, not decoded (see countedRows). */
export function countRowsInstead(zongji: object, decide: RowsCounting): void {
  (zongji as { [COUNTING]?: RowsCounting })[COUNTING] = decide;
}

function countInstead(event: ZongjiRowsEvent, parser: ZongjiParser): boolean {
  const decide = (event._zongji as { [COUNTING]?: RowsCounting })[COUNTING];
  const raw = event[RAW];
  if (!decide || !raw || !PLAIN_ROWS_EVENTS.has(raw.buffer[raw.start + 4]!)) return false;
  const layout = decide(event.tableId, raw.end - raw.start);
  if (!layout || layout.length !== event.numberOfColumns) return false;
  const count = countRows(parser._buffer, parser._offset, parser._packetEnd, layout, event.columns_present_bitmap, event._hasTwoRows ? event.columns_present_bitmap2 : undefined);
  // (Rows that do not walk to the end, the layout not fitting: decoded, and zongji's error if any.)
  if (count === undefined) return false;
  event[COUNTED] = count;
  parser._offset = parser._packetEnd;
  return true;
}

/** How many rows a rows event carries when they were counted instead of decoded (its `rows` are then meaningless). */
export function countedRows(event: object): number | undefined {
  return (event as ZongjiRowsEvent)[COUNTED];
}

/** The bytes of a table map or rows event, as a view of its packet (copied by whoever keeps it). */
export function rawEvent(event: object): Uint8Array | undefined {
  const raw = (event as { [RAW]?: RawBytes })[RAW];
  if (!raw) return undefined;
  raw.view ??= new Uint8Array(raw.buffer.buffer, raw.buffer.byteOffset + raw.start, raw.end - raw.start);
  return raw.view;
}

/**
 * Whether a table map or rows event's bytes from `from` to `trailing`
 * bytes before its end are `bytes` (compared in place).
 */
export function rawEventHas(event: object, from: number, trailing: number, bytes: Uint8Array): boolean {
  const raw = (event as { [RAW]?: RawBytes })[RAW];
  if (!raw) return false;
  const start = raw.start + from;
  const length = raw.end - trailing - start;
  if (length !== bytes.length) return false;
  const own = raw.buffer;
  for (let i = 0; i < length; i++) if (own[start + i] !== bytes[i]) return false;
  return true;
}

/** Format description events by stream: the last one read (a copy). */
const formats = new WeakMap<object, Buffer>();

/**
 * What the stream may do with an event's packet before zongji reads it:
 * take the event itself (true), and zongji then never sees it. `start` is
 * the event's first header byte, `end` the packet's end (checksum included).
 */
export type PacketTaker = (bytes: Buffer, start: number, end: number) => boolean;

/**
 * Keeps the bytes of each format description event the stream reads, and
 * offers each event's packet to `take` first (see pass-through.ts): call
 * once zongji is ready (its packet reader exists then), before the dump's
 * first packet.
 */
export function keepFormatDescriptions(zongji: object, take?: PacketTaker): void {
  const Binlog = (zongji as { BinlogClass?: { prototype: { binlogData(packet: Packet, connection: unknown): unknown } } }).BinlogClass;
  if (!Binlog) throw new Error('internal: zongji has no binlog reader yet');
  const read = Binlog.prototype.binlogData;
  const stream = zongji as { stopped?: boolean; connection?: unknown };
  Binlog.prototype.binlogData = function binlogData(this: unknown, packet: Packet, connection: unknown): unknown {
    // (A packet of an event: the OK byte, then the header; the type at 4.)
    const at = packet.offset;
    if (packet.buffer[at] === 0) {
      if (packet.buffer[at + 1 + 4] === FORMAT_DESCRIPTION_EVENT) {
        formats.set(zongji, Buffer.from(packet.buffer.subarray(at + 1, packet.end)));
      } else if (take && !stream.stopped && stream.connection === connection && take(packet.buffer, at + 1, packet.end)) {
        // (What zongji returns after an event: read the next packet with this same reader.)
        return Binlog.prototype.binlogData;
      }
    }
    return read.call(this, packet, connection);
  };
}

/** The last format description event the stream read. */
export function lastFormatDescription(zongji: object): Buffer | undefined {
  return formats.get(zongji);
}
