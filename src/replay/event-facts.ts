// Pure: what the replay scan (scan.ts) reads of an event from its bytes, to
// find transaction boundaries and stop points without decoding it: its
// type and time, a GTID event's GTID, a Query event's first words, a
// rotate's next file, a MariaDB GTID list, the format description's server
// version and checksum flag. `at` is the event's first header byte, `end`
// where it ends (checksum included); `checksum` is 4 when events end with one.
import { EVENT_HEADER_BYTES, hasChecksums } from '../binlog/event-bytes.js';
import { headerServerId, mariadbGtid } from '../binlog/event-head.js';
import { taggedGtid } from '../binlog/tagged-gtid.js';

export const EVENT = {
  QUERY: 2,
  STOP: 3,
  ROTATE: 4,
  FORMAT_DESCRIPTION: 15,
  XID: 16,
  MYSQL_GTID: 33,
  MYSQL_ANONYMOUS_GTID: 34,
  XA_PREPARE: 38,
  TRANSACTION_PAYLOAD: 40,
  MYSQL_GTID_TAGGED: 42,
  MARIADB_GTID: 162,
  MARIADB_GTID_LIST: 163,
} as const;

/** A Query event's post-header: thread id (4), time (4), database length (1), error code (2), status variables' length (2). */
const QUERY_POST_HEADER = 13;
const FL_STANDALONE = 1;

export function eventTypeAt(bytes: Buffer, at: number): number {
  return bytes[at + 4]!;
}

export function eventLengthAt(bytes: Buffer, at: number): number {
  return bytes.readUInt32LE(at + 9);
}

export function timestampAt(bytes: Buffer, at: number): number {
  return bytes.readUInt32LE(at);
}

/** The server version a format description event names (`10.11.6-MariaDB-log`), and whether events carry a CRC32. */
export function formatFacts(bytes: Buffer, at: number, end: number): { serverVersion: string; checksums: boolean } {
  const from = at + EVENT_HEADER_BYTES + 2;
  const raw = bytes.subarray(from, from + 50);
  const nul = raw.indexOf(0);
  return { serverVersion: raw.toString('latin1', 0, nul < 0 ? raw.length : nul), checksums: hasChecksums(bytes.subarray(at, end)) };
}

/** The file a rotate event names: the next binlog. */
export function rotateTarget(bytes: Buffer, at: number, end: number, checksum: number): string {
  return bytes.toString('utf8', at + EVENT_HEADER_BYTES + 8, end - checksum);
}

/** A GTID event's GTID (MariaDB `d-s-n`, MySQL `uuid:n` or, tagged, `uuid:tag:n`; undefined for anonymous ones) and whether it stands alone (DDL). */
export function gtidFacts(bytes: Buffer, at: number, end: number, checksum: number): { gtid: string | undefined; standalone: boolean } {
  const type = eventTypeAt(bytes, at);
  if (type === EVENT.MARIADB_GTID) {
    const body = at + EVENT_HEADER_BYTES;
    const standalone = end - checksum - body > 12 && (bytes[body + 12]! & FL_STANDALONE) !== 0;
    // (mariadbGtid leaves XA groups to zongji: read their GTID here all the same.)
    const gtid = mariadbGtid(bytes, at, end - checksum)?.gtid ?? xaGtid(bytes, at);
    return { gtid, standalone };
  }
  if (type === EVENT.MYSQL_GTID && end - checksum - at >= EVENT_HEADER_BYTES + 25) {
    const body = at + EVENT_HEADER_BYTES;
    const hex = bytes.toString('hex', body + 1, body + 17);
    const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    return { gtid: `${uuid}:${bytes.readBigUInt64LE(body + 17)}`, standalone: false };
  }
  if (type === EVENT.MYSQL_GTID_TAGGED) return { gtid: taggedGtid(bytes, at + EVENT_HEADER_BYTES, end - checksum), standalone: false };
  return { gtid: undefined, standalone: false };
}

function xaGtid(bytes: Buffer, at: number): string {
  const body = at + EVENT_HEADER_BYTES;
  return `${bytes.readUInt32LE(body + 8)}-${headerServerId(bytes, at)}-${bytes.readBigUInt64LE(body)}`;
}

/** A Query event's statement, upper-cased, its first 32 characters (enough to tell BEGIN, COMMIT, ROLLBACK, XA ...). */
export function queryHead(bytes: Buffer, at: number, end: number, checksum: number): string {
  const post = at + EVENT_HEADER_BYTES;
  const dbLength = bytes[post + 8]!;
  const statusLength = bytes.readUInt16LE(post + 11);
  const from = post + QUERY_POST_HEADER + statusLength + dbLength + 1;
  return bytes.toString('latin1', from, Math.min(end - checksum, from + 32)).trimStart().toUpperCase();
}

/** A MariaDB GTID list event: the GTID state before the file's first transaction (`0-1-5,1-2-9`). */
export function gtidList(bytes: Buffer, at: number): string {
  const body = at + EVENT_HEADER_BYTES;
  const count = bytes.readUInt32LE(body) & 0x0fff_ffff;
  const gtids: string[] = [];
  for (let i = 0, p = body + 4; i < count; i++, p += 16) {
    gtids.push(`${bytes.readUInt32LE(p)}-${bytes.readUInt32LE(p + 4)}-${bytes.readBigUInt64LE(p + 8)}`);
  }
  return gtids.join(',');
}
