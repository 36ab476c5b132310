// The fields the stream reads straight from event bytes (binlog/event-head.ts),
// on events built here byte by byte as the server writes them.
import { describe, expect, it } from 'vitest';
import { allSetAt, eventTableId, headerNextPosition, headerServerId, headerTimestampMs, mariadbGtid, rowsHead } from '../../../src/binlog/event-head.js';

/** A 19-byte header (timestamp, type, server id, length, next position, flags) and a body. */
function event(type: number, body: number[], options: { serverId?: number; next?: number; timestamp?: number } = {}): Buffer {
  const header = Buffer.alloc(19);
  header.writeUInt32LE(options.timestamp ?? 1_700_000_000, 0);
  header[4] = type;
  header.writeUInt32LE(options.serverId ?? 1, 5);
  header.writeUInt32LE(19 + body.length, 9);
  header.writeUInt32LE(options.next ?? 4242, 13);
  return Buffer.concat([header, Buffer.from(body)]);
}

const u64 = (n: bigint): number[] => [...Buffer.from(new BigUint64Array([n]).buffer)];
const u32 = (n: number): number[] => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];

describe('event fields read from bytes', () => {
  it('reads the common header', () => {
    const e = event(16, u64(7n), { serverId: 3_000_000_000, next: 4_000_000_000, timestamp: 1_700_000_123 });
    expect(headerTimestampMs(e, 0)).toBe(1_700_000_123_000);
    expect(headerServerId(e, 0)).toBe(3_000_000_000);
    expect(headerNextPosition(e, 0)).toBe(4_000_000_000);
  });

  it("reads a MariaDB GTID event's GTID, and whether it opens a transaction; leaves XA ones to zongji", () => {
    const gtid = (seq: bigint, flags: number): Buffer => event(162, [...u64(seq), ...u32(5), flags], { serverId: 11 });
    expect(mariadbGtid(gtid(812n, 0), 0, 19 + 13)).toEqual({ gtid: '5-11-812', impliesBegin: true });
    expect(mariadbGtid(gtid(812n, 1), 0, 19 + 13)).toEqual({ gtid: '5-11-812', impliesBegin: false });
    // 64-bit sequence numbers stay exact.
    expect(mariadbGtid(gtid(18_446_744_073_709_551_615n, 0), 0, 32)?.gtid).toBe('5-11-18446744073709551615');
    expect(mariadbGtid(gtid(2n ** 53n + 1n, 0), 0, 32)?.gtid).toBe(`5-11-${2n ** 53n + 1n}`);
    expect(mariadbGtid(gtid(9n, 64), 0, 32)).toBeUndefined();
    expect(mariadbGtid(gtid(9n, 128), 0, 32)).toBeUndefined();
    expect(mariadbGtid(gtid(9n, 0), 0, 30)).toBeUndefined(); // (cut short)
  });

  it("reads a rows event's table id, flags and columns-present bitmaps, v1 and v2, from an offset", () => {
    const tableId = [0x34, 0x12, 0, 0, 1, 0]; // 2^32 + 0x1234
    // v1 update (MariaDB), 10 columns: two bitmaps of two bytes.
    const v1 = Buffer.concat([Buffer.from([9, 9, 9]), event(24, [...tableId, 1, 0, 10, 0xff, 0x03, 0xfe, 0x03, 0xaa])]);
    const h1 = rowsHead(v1, 3, v1.length)!;
    expect({ ...h1 }).toEqual({ kind: 'update', tableId: 2 ** 32 + 0x1234, flags: 1, columns: 10, presentAt: 3 + 19 + 8 + 1, presentAfterAt: 3 + 19 + 8 + 3, bitmapBytes: 2, rowsStart: 3 + 19 + 8 + 5 });
    expect(eventTableId(v1, 3)).toBe(2 ** 32 + 0x1234);
    expect(allSetAt(v1, h1.presentAt, 10)).toBe(true);
    expect(allSetAt(v1, h1.presentAfterAt, 10)).toBe(false);
    // v2 write (MySQL): extra data of 4 bytes (its length counts itself).
    const v2 = event(30, [...tableId, 0, 0, 4, 0, 7, 7, 3, 0x07, 0xbb]);
    expect({ ...rowsHead(v2, 0, v2.length)! }).toMatchObject({ kind: 'insert', presentAt: 19 + 8 + 4 + 1, presentAfterAt: -1, rowsStart: 19 + 8 + 4 + 2 });
    // Not a rows event, or cut short.
    expect(rowsHead(event(19, [1, 2, 3]), 0, 22)).toBeUndefined();
    expect(rowsHead(v2, 0, 19 + 8 + 4)).toBeUndefined();
  });
});
