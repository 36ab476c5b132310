// planReplay on the recorded binlogs of test/fixtures/binlogs (MySQL 8.0 to
// 9.6, MariaDB 10.5; see its README): each is read as a binlog of its server,
// its transactions found where its origin's tests and `mariadb-binlog` say
// they are. What their rows hold is test/integration/replay-mysql.test.ts's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/context.js';
import { planReplay } from '../../../src/replay/plan.js';
import { TRANSACTION_PAYLOAD_EVENT, payloadEvents } from '../../../src/binlog/transaction-payload.js';
import { crc32 } from '../../../src/binlog/event-bytes.js';
import { taggedGtid } from '../../../src/binlog/tagged-gtid.js';

const fixture = (name: string): string => join(REPO_ROOT, 'test', 'fixtures', 'binlogs', name);

describe('recorded binlogs', () => {
  it.each([
    ['mysql-enum-string-set.000001', '8.0.28', 'mysql', 3331],
    ['transaction_compression.000001', '8.0.32', 'mysql', 475],
    ['binlog_transaction_with_GTID_TAG.000001', '9.6.0', 'mysql', 585],
    ['json.binlog.000001', '8.0.22', 'mysql', 4011],
    ['mariadb-bin.000001', '10.5.15-MariaDB-1:10.5.15+maria~focal-log', 'mariadb', 1074],
  ])('%s is a whole binlog of %s', async (file, version, flavor, size) => {
    const plan = await planReplay([fixture(file)], null);
    expect(plan).toMatchObject({ serverVersion: version, flavor, checksums: true, warnings: [], files: 1 });
    expect(plan.segments).toEqual([{ path: fixture(file), name: file, formatEnd: expect.any(Number), from: 4, to: size }]);
    // MariaDB's GTID state at the file's start is its GTID list (empty: the server's first binlog); MySQL's is kept by file and offset.
    expect(plan.start.gtid).toBe(flavor === 'mariadb' ? '' : null);
  });

  it('finds the transactions of mysql-enum-string-set.000001 by their GTIDs (93e95066-...:1 to :5)', async () => {
    const ends: number[] = [];
    for (let n = 1; n <= 5; n++) {
      const plan = await planReplay([fixture('mysql-enum-string-set.000001')], null, { gtid: `93e95066-a2f4-11ec-9b69-9657f0ae95e2:${n}` });
      expect(plan.stop).toMatch(/^--stop-gtid 93e95066-a2f4-11ec-9b69-9657f0ae95e2:\d at mysql-enum-string-set\.000001:\d+$/);
      ends.push(plan.segments[0]!.to);
    }
    // Where each ends, as `mariadb-binlog` prints their last events' end_log_pos: ALTER USER, CREATE TABLE, then each row's XID.
    expect(ends).toEqual([493, 791, 1560, 2659, 3331]);
  });

  it('finds the transactions of mariadb-bin.000001 by their MariaDB GTIDs', async () => {
    const first = await planReplay([fixture('mariadb-bin.000001')], null, { gtid: '0-1-1' });
    const second = await planReplay([fixture('mariadb-bin.000001')], null, { gtid: '0-1-2' });
    // At each insert's XID, as `mariadb-binlog` prints their end_log_pos.
    expect([first.segments[0]!.to, second.segments[0]!.to]).toEqual([702, 1074]);
  });
});

describe('a tagged GTID (binlog_transaction_with_GTID_TAG.000001, MySQL 9.6)', () => {
  // Its origin's tests: the GTID_TAGGED_LOG_EVENT holds 55778904-0299-11f1-b1b8-4ef0c4956feb, tag mytag, number 3.
  const GTID = '55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3';

  it('is read from its event as uuid:tag:n', () => {
    const bytes = readFileSync(fixture('binlog_transaction_with_GTID_TAG.000001'));
    const found: string[] = [];
    for (let at = 4; at < bytes.length; at += bytes.readUInt32LE(at + 9)) {
      if (bytes[at + 4] === 42) found.push(taggedGtid(bytes, at + 19, at + bytes.readUInt32LE(at + 9) - 4));
    }
    expect(found).toEqual([GTID]);
  });

  it('is a stop point of replay (--stop-gtid): the transaction it starts, to its end', async () => {
    const plan = await planReplay([fixture('binlog_transaction_with_GTID_TAG.000001')], null, { gtid: GTID });
    // (Its events: the tagged GTID at 245, BEGIN, the table map, the write rows event, and the XID ending at 541; a rotate follows.)
    expect(plan.stop).toBe(`--stop-gtid ${GTID} at binlog_transaction_with_GTID_TAG.000001:541`);
    expect(plan.segments[0]!.to).toBe(541);
    expect(plan.warnings).toEqual([]);
  });
});

describe('a compressed transaction (transaction_compression.000001, MySQL 8.0.32)', () => {
  it('holds the events its origin documents: a Query, a table map, a write rows event and an XID, ending where the payload ends', async () => {
    const bytes = readFileSync(fixture('transaction_compression.000001'));
    // (The file's 4th event: format description, previous GTIDs, anonymous GTID, then the payload at 274, ending at 431.)
    const at = 274;
    expect(bytes[at + 4]).toBe(TRANSACTION_PAYLOAD_EVENT);
    const events = payloadEvents(bytes.subarray(at, at + bytes.readUInt32LE(at + 9)), true);
    expect(events.map((e) => e[4])).toEqual([2, 19, 30, 16]);
    for (const e of events) {
      expect(e.readUInt32LE(9)).toBe(e.length);
      expect(e.readUInt32LE(13)).toBe(431);
      expect(e.readUInt32LE(e.length - 4)).toBe(crc32(e.subarray(0, e.length - 4)));
    }
    // The table map names the table inside the payload.
    expect(events[1]!.includes(Buffer.from('tb1'))).toBe(true);
  });

  it('reads the sizes of its header as length-encoded integers: a transaction of 251 bytes or more', () => {
    const bytes = readFileSync(fixture('transaction_compression.000001'));
    const inner = payloadEvents(bytes.subarray(274, 431), true).map((e) => {
      // (As they are inside a payload: no checksum, end position 0.)
      const raw = Buffer.from(e.subarray(0, e.length - 4));
      raw.writeUInt32LE(raw.length, 9);
      raw.writeUInt32LE(0, 13);
      return raw;
    });
    // The transaction's rows event twice more: 259 bytes uncompressed, uncompressed (algorithm NONE, 255) to stay exact.
    const raw = Buffer.concat([inner[0]!, inner[1]!, inner[2]!, inner[2]!, inner[2]!, inner[3]!]);
    expect(raw.length).toBeGreaterThanOrEqual(251);
    const lenenc = (n: number): Buffer => (n < 251 ? Buffer.from([n]) : Buffer.from([0xfc, n & 0xff, n >> 8]));
    const header = Buffer.concat([
      Buffer.from([2, 3]), lenenc(255), // compression type NONE (255 is itself a 3-byte length-encoded integer)
      Buffer.from([3, 3]), lenenc(raw.length),
      Buffer.from([1, 3]), lenenc(raw.length),
      Buffer.from([0]),
    ]);
    const event = Buffer.alloc(19 + header.length + raw.length + 4);
    event[4] = TRANSACTION_PAYLOAD_EVENT;
    event.writeUInt32LE(event.length, 9);
    event.writeUInt32LE(5000, 13);
    header.copy(event, 19);
    raw.copy(event, 19 + header.length);
    event.writeUInt32LE(crc32(event.subarray(0, event.length - 4)), event.length - 4);
    expect(payloadEvents(event, true).map((e) => e[4])).toEqual([2, 19, 30, 30, 30, 16]);
  });
});
