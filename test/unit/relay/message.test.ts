import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/context.js';
import { messageId, parsePlace, placeHeaders, splitPayload, transactionPayloads, type MessagePlace } from '../../../src/relay/message.js';

/** The recorded MariaDB 10.5 binlog: its format description (4..256) and first transaction's events (330..702). */
const binlog = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'binlogs', 'mariadb-bin.000001'));
const format = binlog.subarray(4, 256);
const events = [binlog.subarray(330, 372), binlog.subarray(476, 612), binlog.subarray(612, 671), binlog.subarray(671, 702)];

const place: MessagePlace = {
  file: 'mysql-bin.000012',
  position: 5531,
  gtid: '0-1-8812',
  commitTime: Date.UTC(2026, 11, 7, 12, 0, 1),
  after: { file: 'mysql-bin.000012', position: 4410 },
  part: 1,
  parts: 1,
};

describe('message ids', () => {
  it('are the source position, and the part when there are several', () => {
    expect(messageId(place)).toBe('mysql-bin.000012:5531');
    expect(messageId({ ...place, part: 2, parts: 3 })).toBe('mysql-bin.000012:5531/2of3');
  });
});

describe('headers', () => {
  it('say where the transaction is, and read back the same', () => {
    const headers = placeHeaders(place);
    expect(headers).toEqual({
      'Binlog-File': 'mysql-bin.000012',
      'Binlog-Position': '5531',
      'Binlog-Gtid': '0-1-8812',
      'Binlog-Commit-Time': '2026-12-07T12:00:01.000Z',
      'Binlog-After': 'mysql-bin.000012:4410',
      'Binlog-Part': '1/1',
    });
    expect(parsePlace((name) => headers[name], 7)).toEqual(place);
    const noGtid = placeHeaders({ ...place, gtid: null });
    expect(noGtid['Binlog-Gtid']).toBeUndefined();
    expect(parsePlace((name) => noGtid[name], 7).gtid).toBeNull();
  });

  it('refuse a message that is not one of ours', () => {
    const headers = placeHeaders(place);
    expect(() => parsePlace(() => undefined, 3)).toThrow(/stream message 3 is not a binlog-sync relay message \(no Binlog-File header\)/);
    expect(() => parsePlace((n) => (n === 'Binlog-Position' ? 'x' : headers[n]), 3)).toThrow(/Binlog-Position is not an offset/);
    expect(() => parsePlace((n) => (n === 'Binlog-After' ? 'nowhere' : headers[n]), 3)).toThrow(/Binlog-After is not FILE:POS/);
  });
});

describe('payloads', () => {
  it('are the format description and the events, as the source wrote them', () => {
    const [payload, ...more] = transactionPayloads(format, events, 1024 * 1024);
    expect(more).toEqual([]);
    expect(payload).toEqual(Buffer.concat([format, ...events]));
    const split = splitPayload(payload!, 1);
    expect(Buffer.from(split.format)).toEqual(format);
    expect(split.events.map((e) => Buffer.from(e))).toEqual(events);
  });

  it('are cut between events into parts that fit, each with the format description', () => {
    fc.assert(
      fc.property(fc.integer({ min: format.length + 136, max: 1000 }), (max) => {
        const parts = transactionPayloads(format, events, max);
        const again: Buffer[] = [];
        for (const part of parts) {
          expect(part.length).toBeLessThanOrEqual(max);
          const split = splitPayload(part, 1);
          expect(Buffer.from(split.format)).toEqual(format);
          expect(split.events.length).toBeGreaterThan(0);
          again.push(...split.events.map((e) => Buffer.from(e)));
        }
        expect(again).toEqual(events);
      }),
    );
  });

  it('refuse an event larger than a message, naming the fix', () => {
    expect(() => transactionPayloads(format, events, format.length + 100)).toThrow(/a binlog event of 136 bytes does not fit .* raise max_payload/);
  });

  it('refuse bytes that are not whole events after a format description', () => {
    expect(() => splitPayload(Buffer.concat([format, events[0]!.subarray(0, 30)]), 9)).toThrow(/stream message 9 does not hold whole binlog events/);
    expect(() => splitPayload(Buffer.concat(events), 9)).toThrow(/does not begin with a format description event/);
    expect(() => splitPayload(Buffer.from('hello world, not a binlog'), 9)).toThrow(/not a binlog-sync relay message/);
  });
});
