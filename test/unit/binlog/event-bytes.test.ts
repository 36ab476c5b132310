import { describe, expect, it } from 'vitest';
import {
  binlogStatement,
  binlogStatementBytes,
  crc32,
  eventLength,
  hasChecksums,
  normaliseFormatDescription,
  renameTableMapDatabase,
  tableMapNames,
} from '../../../src/binlog/event-bytes.js';

/** An event: header (timestamp, type, server id, length, next position, flags), body, and a CRC32 when asked. */
function event(type: number, body: Buffer, checksum: boolean, flags = 0): Buffer {
  const length = 19 + body.length + (checksum ? 4 : 0);
  const header = Buffer.alloc(19);
  header.writeUInt32LE(1_700_000_000, 0);
  header[4] = type;
  header.writeUInt32LE(101, 5);
  header.writeUInt32LE(length, 9);
  header.writeUInt32LE(4000, 13);
  header.writeUInt16LE(flags, 17);
  const out = Buffer.concat([header, body, Buffer.alloc(checksum ? 4 : 0)]);
  if (checksum) out.writeUInt32LE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
  return out;
}

function tableMap(database: string, table: string, checksum: boolean): Buffer {
  const post = Buffer.from([0x12, 0, 0, 0, 0, 0, 1, 0]); // table id 18, flags 1
  const db = Buffer.from(database, 'utf8');
  const tb = Buffer.from(table, 'utf8');
  const columns = Buffer.from([2, 3, 15, 2, 80, 0, 2]); // two columns (INT, VARCHAR(80)), metadata, null bitmap
  return event(19, Buffer.concat([post, Buffer.from([db.length]), db, Buffer.from([0, tb.length]), tb, Buffer.from([0]), columns]), checksum);
}

function formatDescription(alg: number): Buffer {
  const body = Buffer.alloc(2 + 50 + 4 + 1 + 40 + 1);
  body.writeUInt16LE(4, 0);
  body.write('10.11.19-MariaDB-log', 2, 'latin1');
  body.writeUInt32LE(1_700_000_123, 52);
  body[56] = 19;
  body[body.length - 1] = alg;
  // (A format description always has room for its CRC, filled only when checksums are on.)
  const out = event(15, body, true, 0x1);
  if (alg === 0) out.fill(0, out.length - 4);
  return out;
}

function crcHolds(e: Buffer): boolean {
  return crc32(e.subarray(0, e.length - 4)) === e.readUInt32LE(e.length - 4);
}

describe('binlog event bytes', () => {
  it('computes the CRC-32 the binlog uses', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('reads a table map event names, and renames its database with a new length and CRC', () => {
    const original = tableMap('themepark_tracker', 'rides', true);
    expect(tableMapNames(original)).toEqual({ database: 'themepark_tracker', table: 'rides' });
    const renamed = renameTableMapDatabase(original, 'tp_dev_ü', true);
    expect(tableMapNames(renamed)).toEqual({ database: 'tp_dev_ü', table: 'rides' });
    expect(eventLength(renamed)).toBe(renamed.length);
    expect(renamed.length).toBe(original.length - 'themepark_tracker'.length + Buffer.byteLength('tp_dev_ü'));
    expect(crcHolds(renamed)).toBe(true);
    // The columns after the names are the same bytes.
    expect(renamed.subarray(renamed.length - 11, renamed.length - 4)).toEqual(original.subarray(original.length - 11, original.length - 4));
    // The original is left as it was.
    expect(tableMapNames(original).database).toBe('themepark_tracker');
  });

  it('renames without a CRC when the binlog has none', () => {
    const original = tableMap('a', 't', false);
    const renamed = renameTableMapDatabase(original, 'bb', false);
    expect(renamed.length).toBe(original.length + 1);
    expect(tableMapNames(renamed)).toEqual({ database: 'bb', table: 't' });
  });

  it('clears a format description event creation time and in-use flag, keeping its checksum setting', () => {
    const fde = formatDescription(1);
    expect(hasChecksums(fde)).toBe(true);
    const normal = normaliseFormatDescription(fde);
    expect(normal.readUInt32LE(19 + 52)).toBe(0);
    expect(normal.readUInt16LE(17) & 1).toBe(0);
    expect(crcHolds(normal)).toBe(true);
    expect(fde.readUInt32LE(19 + 52)).toBe(1_700_000_123); // a copy
    const plain = normaliseFormatDescription(formatDescription(0));
    expect(hasChecksums(plain)).toBe(false);
    expect(plain.readUInt32LE(plain.length - 4)).toBe(0);
    expect(() => normaliseFormatDescription(tableMap('a', 'b', true))).toThrow(/not a format description/);
  });

  it('writes BINLOG statements as base64 of the events in order, of the size it says', () => {
    const events = [tableMap('a', 't', true), Buffer.from([1, 2, 3, 4, 5])];
    const text = binlogStatement(events).toString('latin1');
    expect(text.startsWith("BINLOG '") && text.endsWith("'")).toBe(true);
    expect(Buffer.from(text.slice(8, -1), 'base64')).toEqual(Buffer.concat(events));
    for (const n of [0, 1, 2, 3, 4, 100, 1001]) expect(binlogStatement([Buffer.alloc(n)]).length).toBe(binlogStatementBytes(n));
    // (One event: a view of a larger buffer, only its own bytes.)
    const packet = Buffer.from([9, 9, 1, 2, 3, 9]);
    expect(Buffer.from(binlogStatement([packet.subarray(2, 5)]).toString('latin1').slice(8, -1), 'base64')).toEqual(Buffer.from([1, 2, 3]));
  });
});
