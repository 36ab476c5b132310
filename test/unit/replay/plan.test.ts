// planReplay on binlog files built here event by event (MariaDB's layout,
// without checksums): what is read, from where to where, and what is
// refused before anything is applied. The files `replay` reads from real
// servers are test/integration/replay.test.ts's.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../support/context.js';
import { planReplay } from '../../../src/replay/plan.js';
import { GroupTracker } from '../../../src/replay/groups.js';
import { ReplayInputError } from '../../../src/errors.js';

const dir = tempDir('binlog-sync-plan-');
afterAll(() => dir.cleanup());

const SERVER_ID = 1;

/** One event: the 19-byte header (its next position filled in by binlog()), then the body. */
function event(type: number, timestamp: number, body: Buffer): Buffer {
  const header = Buffer.alloc(19);
  header.writeUInt32LE(timestamp, 0);
  header[4] = type;
  header.writeUInt32LE(SERVER_ID, 5);
  header.writeUInt32LE(19 + body.length, 9);
  return Buffer.concat([header, body]);
}

function format(): Buffer {
  const version = Buffer.alloc(50);
  version.write('10.11.6-MariaDB-log');
  // binlog version, server version, created, header length, post-header lengths, checksum algorithm (off) and its CRC.
  return event(15, 50, Buffer.concat([Buffer.from([4, 0]), version, Buffer.alloc(4), Buffer.from([19]), Buffer.alloc(10), Buffer.from([0]), Buffer.alloc(4)]));
}

function gtidList(...gtids: Array<[number, number, number]>): Buffer {
  const body = Buffer.alloc(4 + 16 * gtids.length);
  body.writeUInt32LE(gtids.length, 0);
  gtids.forEach(([d, s, n], i) => {
    body.writeUInt32LE(d, 4 + 16 * i);
    body.writeUInt32LE(s, 8 + 16 * i);
    body.writeBigUInt64LE(BigInt(n), 12 + 16 * i);
  });
  return event(163, 50, body);
}

/** A MariaDB transaction: GTID event 0-1-seq, a query, its XID. */
function transaction(seq: number, timestamp: number): Buffer[] {
  const gtid = Buffer.alloc(19);
  gtid.writeBigUInt64LE(BigInt(seq), 0);
  return [event(162, timestamp, gtid), query(timestamp, 'INSERT INTO t VALUES (1)'), event(16, timestamp, Buffer.alloc(8))];
}

function query(timestamp: number, sql: string): Buffer {
  return event(2, timestamp, Buffer.concat([Buffer.alloc(13), Buffer.from('db\0'), Buffer.from(sql)]));
}

function rotate(next: string): Buffer {
  const body = Buffer.alloc(8 + next.length);
  body.writeBigUInt64LE(4n, 0);
  body.write(next, 8);
  return event(4, 0, body);
}

/** A binlog file of these events, their next positions set; returns its path and each event's end. */
function binlog(name: string, events: Buffer[]): { path: string; ends: number[] } {
  let at = 4;
  const ends: number[] = [];
  for (const e of events) {
    at += e.length;
    e.writeUInt32LE(at, 13);
    ends.push(at);
  }
  const path = join(dir.path, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, Buffer.concat([Buffer.from([0xfe, 0x62, 0x69, 0x6e]), ...events]));
  return { path, ends };
}

// Three files: transactions 1 and 2 (written at 100, 200), 3 and 4 (300, 400), 5 (500), each file rotating to the next.
const one = binlog('mysql-bin.000001', [format(), gtidList(), ...transaction(1, 100), ...transaction(2, 200), rotate('mysql-bin.000002')]);
const two = binlog('mysql-bin.000002', [format(), gtidList([0, 1, 2]), ...transaction(3, 300), ...transaction(4, 400), rotate('mysql-bin.000003')]);
const three = binlog('mysql-bin.000003', [format(), gtidList([0, 1, 4]), ...transaction(5, 500)]);
const all = [one.path, two.path, three.path];

describe('planReplay', () => {
  it('reads every file whole into an empty replica, from the first GTID list', async () => {
    const plan = await planReplay(all, null);
    expect(plan.segments.map((s) => [s.name, s.from, s.to])).toEqual([
      ['mysql-bin.000001', 4, one.ends.at(-1)],
      ['mysql-bin.000002', 4, two.ends.at(-1)],
      ['mysql-bin.000003', 4, three.ends.at(-1)],
    ]);
    expect(plan.start).toEqual({ file: 'mysql-bin.000001', position: 4, gtid: '' });
    expect(plan).toMatchObject({ flavor: 'mariadb', gtidKnown: true, checksums: false, warnings: [], stop: undefined });
  });

  it('starts at the replica position and computes the GTID state there', async () => {
    // After transaction 3: the end of its XID (the 5th event of file two).
    const plan = await planReplay(all, { file: 'mysql-bin.000002', position: two.ends[4]!, gtid: null });
    expect(plan.segments.map((s) => [s.name, s.from])).toEqual([
      ['mysql-bin.000002', two.ends[4]],
      ['mysql-bin.000003', 4],
    ]);
    expect(plan.start).toEqual({ file: 'mysql-bin.000002', position: two.ends[4], gtid: '0-1-3' });
  });

  it('passes over by GTID a position before the first file, and refuses a gap', async () => {
    const plan = await planReplay([two.path, three.path], { file: null, position: null, gtid: '0-1-3' });
    expect(plan.segments[0]).toMatchObject({ name: 'mysql-bin.000002', from: two.ends[4] });
    await expect(planReplay([two.path, three.path], { file: null, position: null, gtid: '0-1-1' })).rejects.toThrow(/^a gap: the replica stands at GTID 0-1-1, but .*mysql-bin\.000002 begins after 0-1-2/);
    await expect(planReplay([two.path], { file: 'mysql-bin.000001', position: 500, gtid: null })).rejects.toThrow(/^a gap: the replica stands at mysql-bin\.000001:500, before the first file given/);
  });

  it('has nothing to read when the replica is past the files', async () => {
    const plan = await planReplay(all, { file: 'mysql-bin.000003', position: three.ends.at(-1)!, gtid: '0-1-5' });
    expect(plan.segments).toEqual([]);
  });

  it.each([
    ['--stop-gtid', { gtid: '0-1-3' }, 'mysql-bin.000002', () => two.ends[4]],
    ['--stop-datetime', { datetimeMs: 300_000 }, 'mysql-bin.000002', () => two.ends[1]],
    ['--stop-position inside a transaction', { position: { file: 'mysql-bin.000002', position: two.ends[3]! } }, 'mysql-bin.000002', () => two.ends[1]],
    ['--stop-position at a transaction', { position: { file: 'mysql-bin.000001', position: one.ends[4]! } }, 'mysql-bin.000001', () => one.ends[4]],
  ])('%s stops at a transaction boundary', async (_name, stop, file, at) => {
    const plan = await planReplay(all, null, stop);
    expect(plan.segments.at(-1)).toMatchObject({ name: file, to: at() });
    expect(plan.stop).toContain(`${file}:${at()}`);
  });

  it('refuses files out of order, with a gap, or not binlogs, naming them', async () => {
    await expect(planReplay([two.path, one.path], null)).rejects.toThrow(/^the files are out of order: .*mysql-bin\.000001 comes after .*mysql-bin\.000002, which rotates to mysql-bin\.000003/);
    await expect(planReplay([one.path, three.path], null)).rejects.toThrow(/^a gap between the files: .*mysql-bin\.000001 rotates to mysql-bin\.000002, but the next file given is .*mysql-bin\.000003; give mysql-bin\.000002 too$/);
    const text = join(dir.path, 'notes.txt');
    writeFileSync(text, 'not a binlog');
    await expect(planReplay([text], null)).rejects.toThrow(ReplayInputError);
    await expect(planReplay([join(dir.path, 'missing')], null)).rejects.toThrow(/^cannot read .*missing: no such file$/);
  });

  it('ends a truncated last file at its last complete transaction, with a warning; refuses one in the middle', async () => {
    const cut = binlog('whole/mysql-bin.000003', [format(), gtidList([0, 1, 4]), ...transaction(5, 500), ...transaction(6, 600)]);
    const path = join(dir.path, 'cut', 'mysql-bin.000003');
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, readFileSync(cut.path).subarray(0, cut.ends.at(-1)! - 3));
    const plan = await planReplay([one.path, two.path, path], null);
    expect(plan.segments.at(-1)).toMatchObject({ to: cut.ends[4] });
    expect(plan.warnings).toEqual([expect.stringMatching(/mysql-bin\.000003 ends early \(its last event .* is cut off after \d+ bytes\): replayed to byte \d+/)]);
    const middle = join(dir.path, 'cut', 'mysql-bin.000002');
    writeFileSync(middle, readFileSync(two.path).subarray(0, two.ends[3]!));
    await expect(planReplay([one.path, middle, three.path], null)).rejects.toThrow(/mysql-bin\.000002 is truncated \(it ends within a transaction begun at byte \d+\); only the last file given may end early$/);
  });
});

describe('GroupTracker', () => {
  it.each([
    ['a MariaDB transaction', [[162, false], [2, 'INSERT'], [16]], ['open', 'inside', 'closed']],
    ['MariaDB DDL (standalone)', [[162, true], [2, 'CREATE TABLE t (a INT)']], ['open', 'closed']],
    ['a MySQL transaction', [[33, false], [2, 'BEGIN'], [19], [30], [16]], ['open', 'inside', 'inside', 'inside', 'closed']],
    ['MySQL DDL', [[33, false], [2, 'DROP TABLE t']], ['open', 'closed']],
    ['COMMIT as a statement, ROLLBACK TO inside', [[2, 'BEGIN'], [2, 'ROLLBACK TO SAVEPOINT a'], [2, 'COMMIT']], ['open', 'inside', 'closed']],
    ['events between groups', [[4], [163], [2, 'CREATE DATABASE d']], ['outside', 'outside', 'single']],
  ] as Array<[string, Array<[number, (string | boolean)?]>, string[]]>)('%s', (_name, events, steps) => {
    const tracker = new GroupTracker();
    const seen = events.map(([type, extra], i) =>
      tracker.feed(type, i * 100, typeof extra === 'string' ? extra.toUpperCase() : undefined, typeof extra === 'boolean' ? { gtid: '0-1-1', standalone: extra } : undefined),
    );
    expect(seen).toEqual(steps);
  });
});
