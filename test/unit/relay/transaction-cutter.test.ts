// The relay's cut on the recorded MariaDB 10.5 binlog (test/fixtures/binlogs/
// mariadb-bin.000001): two transactions, each a GTID event, an annotation,
// a table map of toddy_test.outbox, a write rows event and an XID, ending at
// 702 and 1074 as `mariadb-binlog` prints them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/context.js';
import { crc32, renameTableMapDatabase } from '../../../src/binlog/event-bytes.js';
import { createFilter } from '../../../src/txn/filter.js';
import { TransactionCutter, type CutResult } from '../../../src/relay/transaction-cutter.js';

const binlog = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'binlogs', 'mariadb-bin.000001'));

function eventsOf(bytes: Buffer): Buffer[] {
  const events: Buffer[] = [];
  for (let at = 4; at < bytes.length; at += bytes.readUInt32LE(at + 9)) events.push(Buffer.from(bytes.subarray(at, at + bytes.readUInt32LE(at + 9))));
  return events;
}

function cut(databases: string[], events: Buffer[]): CutResult[] {
  const cutter = new TransactionCutter(createFilter({ databases, includeTables: [], excludeTables: [], rewriteDb: {} }), { file: 'mariadb-bin.000001' }, () => true);
  return events.map((e) => cutter.feed(e)).filter((r): r is CutResult => r !== undefined);
}

/** An event with its checksum made anew after a change. */
function resum(event: Buffer): Buffer {
  event.writeUInt32LE(crc32(event.subarray(0, event.length - 4)), event.length - 4);
  return event;
}

const STMT_END_F = 1;
const flagsOf = (event: Buffer): number => event.readUInt16LE(19 + 6);

describe('TransactionCutter', () => {
  it("cuts the selected database's transactions, without the events consumers never read", () => {
    const results = cut(['toddy_test'], eventsOf(binlog));
    expect(results.map((r) => ({ kind: r.kind, position: r.position, gtid: r.kind === 'transaction' ? r.gtid : undefined }))).toEqual([
      { kind: 'transaction', position: 702, gtid: '0-1-1' },
      { kind: 'transaction', position: 1074, gtid: '0-1-2' },
    ]);
    const first = results[0]!;
    if (first.kind !== 'transaction') throw new Error('not a transaction');
    // GTID, table map, rows, XID: the annotation (type 160) left out; the bytes as the source wrote them.
    expect(first.events.map((e) => e[4])).toEqual([162, 19, 23, 16]);
    expect(Buffer.concat(first.events)).toEqual(Buffer.concat([binlog.subarray(330, 372), binlog.subarray(476, 702)]));
    expect(first.format).toEqual(binlog.subarray(4, 256));
    expect(first.file).toBe('mariadb-bin.000001');
    expect(first.commitTime).toBe(binlog.readUInt32LE(671) * 1000);
  });

  it("passes over other databases' transactions (the position moves, with each one's GTID; nothing is published)", () => {
    expect(cut(['another_db'], eventsOf(binlog))).toEqual([
      { kind: 'passed', file: 'mariadb-bin.000001', position: 702, gtid: '0-1-1' },
      { kind: 'passed', file: 'mariadb-bin.000001', position: 1074, gtid: '0-1-2' },
    ]);
  });

  it("leaves out another database's rows in a statement, and ends the statement on the last rows event kept", () => {
    const [format, , , gtid, , map, rows, xid] = eventsOf(binlog);
    // The same statement over toddy_test.outbox and a table of another database (table id 99), which ends it.
    const ours = resum(Buffer.from(rows!));
    ours.writeUInt16LE(flagsOf(ours) & ~STMT_END_F, 19 + 6);
    const otherMap = renameTableMapDatabase(map!, 'elsewhere', true);
    otherMap.writeUInt32LE(99, 19);
    resum(otherMap);
    const otherRows = Buffer.from(rows!);
    otherRows.writeUInt32LE(99, 19);
    resum(otherRows);
    const [result] = cut(['toddy_test'], [format!, gtid!, map!, otherMap, ours, otherRows, xid!]);
    if (result?.kind !== 'transaction') throw new Error('not a transaction');
    expect(result.events.map((e) => e[4])).toEqual([162, 19, 23, 16]);
    const kept = result.events[2]!;
    expect(flagsOf(kept) & STMT_END_F).toBe(STMT_END_F);
    expect(kept.readUInt32LE(kept.length - 4)).toBe(crc32(kept.subarray(0, kept.length - 4)));
  });

  it('follows rotations, the name read without its checksum before any format description', () => {
    const name = Buffer.from('mariadb-bin.000002');
    const rotate = Buffer.alloc(19 + 8 + name.length + 4);
    rotate[4] = 4;
    rotate.writeUInt32LE(rotate.length, 9);
    rotate.writeBigUInt64LE(4n, 19);
    name.copy(rotate, 27);
    resum(rotate);
    const cutter = new TransactionCutter(createFilter({ databases: ['toddy_test'], includeTables: [], excludeTables: [], rewriteDb: {} }), { file: 'mariadb-bin.000001' }, () => true);
    expect(cutter.feed(rotate)).toEqual({ kind: 'passed', file: 'mariadb-bin.000002', position: 4, gtid: null });
    expect(cutter.currentFile).toBe('mariadb-bin.000002');
  });
});
