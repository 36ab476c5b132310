// Part of the zongji adapter: keeps the bytes of the events the replica may
// apply itself (BINLOG statements, see apply/binlog-rows.ts): the format
// description event, table maps and rows events. zongji decodes events from
// its parser and keeps no bytes; every table map and rows event reads its
// table id first (BinlogEvent._readTableId), when the parser stands at the
// event's body, so the whole event (header, body, checksum) is a view of the
// packet from 19 bytes before it. The format description event reads
// nothing: its bytes are taken as its packet arrives. (zongji 0.9 exposes
// neither; reached by the files' real paths, as zongji-raw.ts does.)
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EVENT_HEADER_BYTES, FORMAT_DESCRIPTION_EVENT } from '../binlog/event-bytes.js';

interface ZongjiParser {
  _buffer: Buffer;
  readonly _offset: number;
  readonly _packetEnd: number;
}

interface Packet {
  buffer: Buffer;
  offset: number;
  end: number;
}

const root = dirname(realpathSync(createRequire(import.meta.url).resolve('@vlasky/zongji')));
const events = (await import(pathToFileURL(join(root, 'lib', 'binlog_event.js')).href)) as { TableMap: { prototype: object } };

const RAW = Symbol.for('binlog-sync.rawEvent');
const installed = globalThis as { [RAW]?: true };

if (!installed[RAW]) {
  installed[RAW] = true;
  const base = Object.getPrototypeOf(events.TableMap.prototype) as { _readTableId(this: Record<symbol, unknown>, parser: ZongjiParser): void };
  const readTableId = base._readTableId;
  base._readTableId = function (this: Record<symbol, unknown>, parser: ZongjiParser): void {
    this[RAW] = parser._buffer.subarray(parser._offset - EVENT_HEADER_BYTES, parser._packetEnd);
    readTableId.call(this, parser);
  };
}

/** The bytes of a table map or rows event, as a view of its packet (copied by whoever keeps it). */
export function rawEvent(event: object): Buffer | undefined {
  const raw = (event as Record<symbol, unknown>)[RAW];
  return Buffer.isBuffer(raw) ? raw : undefined;
}

/** Format description events by stream: the last one read (a copy). */
const formats = new WeakMap<object, Buffer>();

/**
 * Keeps the bytes of each format description event the stream reads: call
 * once zongji is ready (its packet reader exists then), before the dump's
 * first packet.
 */
export function keepFormatDescriptions(zongji: object): void {
  const Binlog = (zongji as { BinlogClass?: { prototype: { binlogData(packet: Packet, connection: unknown): unknown } } }).BinlogClass;
  if (!Binlog) throw new Error('internal: zongji has no binlog reader yet');
  const read = Binlog.prototype.binlogData;
  Binlog.prototype.binlogData = function (this: unknown, packet: Packet, connection: unknown): unknown {
    // (A packet of an event: the OK byte, then the header; the type at 4.)
    const at = packet.offset;
    if (packet.buffer[at] === 0 && packet.buffer[at + 1 + 4] === FORMAT_DESCRIPTION_EVENT) {
      formats.set(zongji, Buffer.from(packet.buffer.subarray(at + 1, packet.end)));
    }
    return read.call(this, packet, connection);
  };
}

/** The last format description event the stream read. */
export function lastFormatDescription(zongji: object): Buffer | undefined {
  return formats.get(zongji);
}
