// A binlog file on disk (`replay`): the 4-byte magic `\xfebin`, then events,
// each with its length in its 19-byte header. Read in chunks of whole events
// (a large event gets a chunk of its own), so that both the scan that checks
// the files before anything is applied (replay-scan.ts) and the stream that
// feeds them to the decoder (source/file-transport.ts) walk them alike.
import { open, type FileHandle } from 'node:fs/promises';
import { EVENT_HEADER_BYTES } from './event-bytes.js';

export const BINLOG_MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);

/** Bytes read at once; whole events only, so a chunk ends a little short of it. */
const CHUNK_BYTES = 4 * 1024 * 1024;
/** Larger than any event a server writes (1 GiB) and its header: a length past it is not a binlog's. */
const MAX_EVENT_BYTES = 1024 * 1024 * 1024 + 1024;

/** Whole events, from `offset` in the file: `bytes` holds them back to back. */
export interface EventChunk {
  offset: number;
  bytes: Buffer;
}

/** Where a walk ended short of its end: a cut-off event (or a length no event can have) at `offset`. */
export interface WalkEnd {
  /** Offset after the last whole event read. */
  offset: number;
  /** Set when the bytes from `offset` are not a whole event. */
  cut?: { reason: string };
}

export async function openBinlog(path: string): Promise<{ handle: FileHandle; size: number }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return { handle, size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Whether the file starts with the binlog magic bytes. */
export async function hasBinlogMagic(handle: FileHandle, size: number): Promise<boolean> {
  if (size < BINLOG_MAGIC.length) return false;
  const magic = Buffer.alloc(BINLOG_MAGIC.length);
  await handle.read(magic, 0, magic.length, 0);
  return magic.equals(BINLOG_MAGIC);
}

/**
 * Reads the events from `from` to `to` (an event boundary, or the file's
 * size) in chunks of whole events; `end` is told where the walk stopped and
 * why, when it stopped short.
 */
export async function* eventChunks(handle: FileHandle, from: number, to: number, end: (walk: WalkEnd) => void): AsyncGenerator<EventChunk> {
  let offset = from;
  let carry = Buffer.alloc(0);
  let carryAt = from;
  while (offset < to || carry.length > 0) {
    const want = Math.min(CHUNK_BYTES, to - offset);
    let bytes = carry;
    if (want > 0) {
      const read = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(read, 0, want, offset);
      offset += bytesRead;
      bytes = carry.length > 0 ? Buffer.concat([carry, read.subarray(0, bytesRead)]) : read.subarray(0, bytesRead);
      if (bytesRead === 0) offset = to; // (the file shrank under us: what is left is cut off)
    }
    // The whole events in it.
    let at = 0;
    let cut: string | undefined;
    while (at + EVENT_HEADER_BYTES <= bytes.length) {
      const length = bytes.readUInt32LE(at + 9);
      if (length < EVENT_HEADER_BYTES || length > MAX_EVENT_BYTES) {
        cut = `an event header at byte ${carryAt + at} gives a length of ${length} bytes`;
        break;
      }
      if (at + length > bytes.length) break;
      at += length;
    }
    if (at > 0) yield { offset: carryAt, bytes: bytes.subarray(0, at) };
    const rest = bytes.subarray(at);
    const restAt = carryAt + at;
    if (cut !== undefined) return end({ offset: restAt, cut: { reason: cut } });
    if (offset >= to) {
      if (rest.length === 0) return end({ offset: restAt });
      // An event larger than a chunk: read the rest of it in one go, if the file has it.
      const length = rest.length >= EVENT_HEADER_BYTES ? rest.readUInt32LE(9) : 0;
      return end({ offset: restAt, cut: { reason: length > 0 ? `its last event (at byte ${restAt}, ${length} bytes) is cut off after ${rest.length} bytes` : `${rest.length} bytes at its end are not a whole event header` } });
    }
    if (rest.length >= EVENT_HEADER_BYTES) {
      const length = rest.readUInt32LE(9);
      if (restAt + length <= to && length > CHUNK_BYTES) {
        const whole = Buffer.allocUnsafe(length);
        rest.copy(whole);
        const { bytesRead } = await handle.read(whole, rest.length, length - rest.length, offset);
        if (bytesRead === length - rest.length) {
          offset += bytesRead;
          yield { offset: restAt, bytes: whole };
          carry = Buffer.alloc(0);
          carryAt = restAt + length;
          continue;
        }
      }
    }
    carry = Buffer.from(rest);
    carryAt = restAt;
  }
  end({ offset });
}
