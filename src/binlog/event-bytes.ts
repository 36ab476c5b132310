// Pure: binlog events as bytes, for the path that lets the replica apply row
// events itself (`BINLOG '<base64>'` statements, see apply/binlog-rows.ts).
// An event is a 19-byte header (timestamp, type, server id, length, next
// position, flags), its body, and a CRC32 of both when the source writes
// checksums (its format description event says so). Only what that path
// changes is handled here: the format description event it starts with, and
// the database name of a table map event (--rewrite-db).
import * as zlib from 'node:zlib';
import { queryBytes, type QueryBuffers } from '../db/large-query.js';
import { base64Length, writeBase64 } from './base64.js';

export const EVENT_HEADER_BYTES = 19;
const TYPE_OFFSET = 4;
const LENGTH_OFFSET = 9;
const FLAGS_OFFSET = 17;
const CHECKSUM_BYTES = 4;

export const FORMAT_DESCRIPTION_EVENT = 15;
export const TABLE_MAP_EVENT = 19;

/** Header flag: the binlog file was open when the event was read (a live file). */
const LOG_EVENT_BINLOG_IN_USE_F = 0x1;
/** Format description body: binlog version (2), server version (50), then the creation time (4). */
const CREATED_OFFSET = EVENT_HEADER_BYTES + 2 + 50;
/** The checksum algorithm byte of a format description event sits before its CRC. */
const BINLOG_CHECKSUM_ALG_CRC32 = 1;
/** A table map's post-header: the table id (6 bytes) and flags (2). */
const TABLE_MAP_POST_HEADER = 8;

export function eventType(event: Uint8Array): number {
  return event[TYPE_OFFSET]!;
}

export function eventLength(event: Uint8Array): number {
  return Buffer.from(event.buffer, event.byteOffset, event.byteLength).readUInt32LE(LENGTH_OFFSET);
}

/** Whether the events that follow this format description event end with a CRC32. */
export function hasChecksums(formatDescription: Uint8Array): boolean {
  return formatDescription[formatDescription.length - CHECKSUM_BYTES - 1] === BINLOG_CHECKSUM_ALG_CRC32;
}

/**
 * The source's format description event as the replica should read it before
 * row events sent in BINLOG statements: its creation time cleared (a format
 * description with one tells the server applying it that the source
 * restarted, and that a transaction open on the session is to be rolled
 * back) and not marked as from a live file. A copy; the CRC is made anew.
 */
export function normaliseFormatDescription(event: Uint8Array): Buffer {
  const copy = Buffer.from(event);
  if (copy.length < CREATED_OFFSET + 4 || eventType(copy) !== FORMAT_DESCRIPTION_EVENT) {
    throw new Error('internal: not a format description event');
  }
  copy.writeUInt32LE(0, CREATED_OFFSET);
  copy.writeUInt16LE(copy.readUInt16LE(FLAGS_OFFSET) & ~LOG_EVENT_BINLOG_IN_USE_F, FLAGS_OFFSET);
  // (A format description event always has room for its CRC; it is filled when checksums are on.)
  if (hasChecksums(copy)) writeChecksum(copy);
  return copy;
}

/** The database and table a table map event names. */
export function tableMapNames(event: Uint8Array): { database: string; table: string } {
  const bytes = Buffer.from(event.buffer, event.byteOffset, event.byteLength);
  let at = EVENT_HEADER_BYTES + TABLE_MAP_POST_HEADER;
  const dbLength = bytes[at]!;
  const database = bytes.toString('utf8', at + 1, at + 1 + dbLength);
  at += 1 + dbLength + 1;
  const tableLength = bytes[at]!;
  return { database, table: bytes.toString('utf8', at + 1, at + 1 + tableLength) };
}

/**
 * A table map event naming `database` instead (for --rewrite-db): a new event,
 * its length and CRC made anew. The table id and columns stay as they are.
 */
export function renameTableMapDatabase(event: Uint8Array, database: string, checksums: boolean): Buffer {
  const bytes = Buffer.from(event.buffer, event.byteOffset, event.byteLength);
  const at = EVENT_HEADER_BYTES + TABLE_MAP_POST_HEADER;
  const oldLength = bytes[at]!;
  const name = Buffer.from(database, 'utf8');
  if (name.length > 255) throw new Error(`internal: database name too long for a table map event: ${database}`);
  const out = Buffer.concat([bytes.subarray(0, at), Buffer.from([name.length]), name, bytes.subarray(at + 1 + oldLength)]);
  out.writeUInt32LE(out.length, LENGTH_OFFSET);
  if (checksums) writeChecksum(out);
  return out;
}

/** Writes the event's CRC32 (of everything before it) into its last 4 bytes. */
function writeChecksum(event: Buffer): void {
  event.writeUInt32LE(crc32(event.subarray(0, event.length - CHECKSUM_BYTES)), event.length - CHECKSUM_BYTES);
}

/** CRC-32 (IEEE), as the binlog uses it: zlib's where Node has it (20.15+), else a table. */
export function crc32(bytes: Uint8Array): number {
  const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (native) return native(bytes);
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/**
 * A BINLOG statement carrying these events (whole events, in order), as the
 * bytes of its query (in a buffer of `buffers` when given). The server
 * decodes them and applies each with its replica's own code; base64 has no
 * quote, so the text needs no escaping.
 */
export function binlogStatement(events: readonly Uint8Array[], buffers?: QueryBuffers): Buffer {
  // Bytes, not a string: the base64 text is written once, into the buffer
  // the query's packet is sent from (see base64.ts).
  const bytes = events.reduce((n, e) => n + e.length, 0);
  const length = binlogStatementBytes(bytes);
  const query = buffers ? buffers.take(length) : queryBytes(length);
  query.write(BINLOG_PREFIX, 0, 'latin1');
  const end = writeBase64(events, query, BINLOG_PREFIX.length);
  query[end] = 0x27; // '
  return query;
}

const BINLOG_PREFIX = "BINLOG '";

/** How many bytes binlogStatement() makes of `eventBytes` bytes of events. */
export function binlogStatementBytes(eventBytes: number): number {
  return BINLOG_PREFIX.length + base64Length(eventBytes) + 1;
}
