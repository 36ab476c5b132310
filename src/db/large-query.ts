// Queries that carry large byte values as they are (escaped binary literals,
// see sql/binary-literal.ts) instead of as hex. Such a query is not valid
// UTF-8 text, so it cannot be a JavaScript string: it is assembled as bytes,
// and mysql2's COM_QUERY packet is taught to take a Buffer (its own code
// only takes strings). The query is built with room for the packet header
// in front, so that a 100 MB query is not copied once more into its packet.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BLOB_MARK, quotedLiteralLength, writeQuotedLiteral } from '../sql/binary-literal.js';

/** Packet header (4), COM_QUERY (1), and the two bytes of query attributes (MySQL 8). */
const HEADROOM = 7;
const COM_QUERY = 0x03;
const CLIENT_QUERY_ATTRIBUTES = 0x08000000;

/** Queries assembled here: the HEADROOM bytes before them are theirs. */
const withHeadroom = new WeakSet<Buffer>();

/** A statement text whose large byte values (`blobs`) stand at its BLOB_MARKs, in order. */
export interface QueryPart {
  sql: string;
  blobs?: readonly Uint8Array[] | undefined;
}

function pieces(part: QueryPart): string[] {
  const texts = part.sql.split(BLOB_MARK);
  if (texts.length !== (part.blobs?.length ?? 0) + 1) throw new Error('internal: a statement has not as many large values as places for them');
  return texts;
}

/** The bytes a statement takes in a query: its text and its values as escaped literals. */
export function partBytes(part: QueryPart): number {
  if (!part.blobs?.length) return Buffer.byteLength(part.sql, 'utf8');
  let bytes = Buffer.byteLength(part.sql, 'utf8') - part.blobs.length * BLOB_MARK.length;
  for (const blob of part.blobs) bytes += quotedLiteralLength(blob);
  return bytes;
}

/**
 * A query of `length` bytes for the caller to fill, with room for its
 * packet header in front (see installLargeQueries): sent as it is, never
 * copied into a packet, nor made a string first.
 */
export function queryBytes(length: number): Buffer {
  const query = Buffer.allocUnsafe(HEADROOM + length).subarray(HEADROOM);
  withHeadroom.add(query);
  return query;
}

/**
 * Query buffers kept for the next query once theirs has been answered (the
 * server has read it all: nothing reads the buffer any more): the BINLOG
 * path sends a statement of up to 2 MB every few milliseconds, and new
 * buffers of that size each would make the collector run for them.
 */
export class QueryBuffers {
  private readonly free: ArrayBuffer[] = [];

  /** Keeps up to `keep` buffers, for queries of up to `bytes` bytes. */
  constructor(
    private readonly keep: number,
    private readonly bytes: number,
  ) {}

  /** A query of `length` bytes to fill (see queryBytes): in a kept buffer when one fits. */
  take(length: number): Buffer {
    if (length > this.bytes) return queryBytes(length);
    const whole = this.free.pop() ?? new ArrayBuffer(HEADROOM + this.bytes);
    const query = Buffer.from(whole, HEADROOM, length);
    withHeadroom.add(query);
    return query;
  }

  /** A query taken here has been answered (or its connection is gone): its buffer may carry the next. */
  give(query: Buffer): void {
    const whole = query.buffer as ArrayBuffer;
    if (this.free.length < this.keep && whole.byteLength === HEADROOM + this.bytes && query.byteOffset === HEADROOM) this.free.push(whole);
  }
}

/**
 * One query of several statements (joined by `;\n`): a string when none
 * carries a large value, else its bytes (utf8mb4 text, binary literals).
 */
export function assembleQuery(parts: readonly QueryPart[]): string | Buffer {
  if (!parts.some((p) => p.blobs?.length)) return parts.map((p) => p.sql).join(';\n');
  let length = 0;
  for (const part of parts) length += partBytes(part);
  length += 2 * (parts.length - 1);
  const whole = Buffer.allocUnsafe(HEADROOM + length);
  let o = HEADROOM;
  parts.forEach((part, n) => {
    if (n > 0) o += whole.write(';\n', o, 'latin1');
    // A statement without large values is written as it is (a NUL in it is its own: see BLOB_MARK).
    if (!part.blobs?.length) {
      o += whole.write(part.sql, o, 'utf8');
      return;
    }
    const texts = pieces(part);
    texts.forEach((text, i) => {
      o += whole.write(text, o, 'utf8');
      if (i < texts.length - 1) o = writeQuotedLiteral(part.blobs![i]!, whole, o);
    });
  });
  const query = whole.subarray(HEADROOM, o);
  withHeadroom.add(query);
  return query;
}

interface PacketCtor {
  new (id: number, buffer: Buffer, start: number, end: number): { offset: number };
}

interface QueryPacket {
  query: unknown;
  attributes?: Record<string, unknown>;
  clientFlags?: number;
}

let installed = false;

/** Lets mysql2 send a query given as a Buffer (see assembleQuery); idempotent. */
export function installLargeQueries(): void {
  if (installed) return;
  installed = true;
  // mysql2 exports no path to its packets; they are loaded from its own folder (the module instance it uses).
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('mysql2'));
  const Query = require(join(root, 'lib/packets/query.js')) as { prototype: { toPacket: (this: QueryPacket, ...args: unknown[]) => unknown } };
  const Packet = require(join(root, 'lib/packets/packet.js')) as PacketCtor;
  const original = Query.prototype.toPacket;
  Query.prototype.toPacket = function toPacket(this: QueryPacket, ...args: unknown[]) {
    const query = this.query;
    if (!Buffer.isBuffer(query)) return original.apply(this, args);
    if (this.attributes && Object.keys(this.attributes).length > 0) throw new Error('internal: query attributes with a query given as bytes');
    const header = (this.clientFlags ?? 0) & CLIENT_QUERY_ATTRIBUTES ? 7 : 5;
    let buffer: Buffer;
    if (withHeadroom.has(query)) {
      buffer = Buffer.from(query.buffer, query.byteOffset - header, query.length + header);
    } else {
      buffer = Buffer.allocUnsafe(header + query.length);
      query.copy(buffer, header);
    }
    buffer[4] = COM_QUERY;
    if (header === 7) {
      buffer[5] = 0; // parameter_count
      buffer[6] = 1; // parameter_set_count
    }
    const packet = new Packet(0, buffer, 0, buffer.length);
    packet.offset = buffer.length;
    return packet;
  };
}
