// Pure: MySQL 8's compressed transaction (binlog_transaction_compression=ON):
// one TRANSACTION_PAYLOAD event (type 40) holds the whole transaction's
// events, zstd-compressed, each with its own 19-byte header and no checksum
// (the payload event carries one). Made into those events again, as the
// server would have written them uncompressed: a checksum each when the
// stream has them, and, as their end position, the payload event's (inside
// it they say 0), so the transaction's commit is at a real boundary.
// Layout (MySQL's libbinlogevents, Transaction_payload_event): fields of
// (type, length, value), each a length-encoded integer (the value `length`
// bytes long), up to a type 0;
// then the payload, to the end of the event (its checksum aside).
import { decompress } from 'fzstd';
import { EVENT_HEADER_BYTES, crc32 } from './event-bytes.js';

export const TRANSACTION_PAYLOAD_EVENT = 40;

const FIELD_END = 0;
const FIELD_COMPRESSION = 2;
const FIELD_UNCOMPRESSED_SIZE = 3;
const COMPRESSION_ZSTD = 0;
const COMPRESSION_NONE = 255;

/**
 * The events a TRANSACTION_PAYLOAD event (`event`: header to checksum)
 * holds, each a new buffer. Throws on a compression it does not know or a
 * payload that does not add up.
 */
export function payloadEvents(event: Uint8Array, checksums: boolean): Buffer[] {
  const bytes = Buffer.from(event.buffer, event.byteOffset, event.byteLength);
  const end = bytes.length - (checksums ? 4 : 0);
  const nextPosition = bytes.readUInt32LE(13);
  let at = EVENT_HEADER_BYTES;
  const field = (): number => {
    const first = bytes[at++]!;
    if (first < 251) return first;
    const size = first === 252 ? 2 : first === 253 ? 3 : 8;
    const value = size === 8 ? Number(bytes.readBigUInt64LE(at)) : bytes.readUIntLE(at, size);
    at += size;
    return value;
  };
  let compression = COMPRESSION_NONE;
  let size: number | undefined;
  for (;;) {
    const type = field();
    if (type === FIELD_END) break;
    // (Each value is itself a length-encoded integer, `length` bytes long.)
    const length = field();
    const next = at + length;
    const value = type === FIELD_COMPRESSION || type === FIELD_UNCOMPRESSED_SIZE ? field() : 0;
    at = next;
    if (type === FIELD_COMPRESSION) compression = value;
    else if (type === FIELD_UNCOMPRESSED_SIZE) size = value;
  }
  const compressed = bytes.subarray(at, end);
  let inner: Buffer;
  if (compression === COMPRESSION_ZSTD) inner = Buffer.from(decompress(compressed));
  else if (compression === COMPRESSION_NONE) inner = Buffer.from(compressed);
  else throw new Error(`a TRANSACTION_PAYLOAD event compressed with an unknown algorithm (${compression})`);
  if (size !== undefined && inner.length !== size) throw new Error(`a TRANSACTION_PAYLOAD event holds ${inner.length} bytes, where it says ${size}`);
  const events: Buffer[] = [];
  for (let p = 0; p < inner.length; ) {
    const length = p + EVENT_HEADER_BYTES <= inner.length ? inner.readUInt32LE(p + 9) : 0;
    if (length < EVENT_HEADER_BYTES || p + length > inner.length) throw new Error('a TRANSACTION_PAYLOAD event whose events do not add up');
    const out = Buffer.alloc(length + (checksums ? 4 : 0));
    inner.copy(out, 0, p, p + length);
    out.writeUInt32LE(out.length, 9);
    out.writeUInt32LE(nextPosition, 13);
    if (checksums) out.writeUInt32LE(crc32(out.subarray(0, length)), length);
    events.push(out);
    p += length;
  }
  return events;
}
