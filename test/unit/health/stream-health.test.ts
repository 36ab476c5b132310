import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StreamHealth } from '../../../src/health/stream-health.js';
import type { SourceEvent, TableDef } from '../../../src/source/events.js';

// `connected` reads the clock itself, so the clock is pinned to the `now`
// values passed explicitly.
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const SILENCE_MS = 100;

let now = T0;
/** Moves the pinned clock (and the `now` passed to the API) forward. */
function advance(ms: number): number {
  now += ms;
  vi.setSystemTime(now);
  return now;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  now = T0;
  vi.setSystemTime(now);
});

afterEach(() => {
  vi.useRealTimers();
});

const TABLE: TableDef = {
  database: 'app',
  table: 'users',
  columns: [{ name: 'id', kind: 'plain' }],
  primaryKey: [0],
};

type ChangeType = 'rows' | 'query' | 'xid' | 'gtid';

function change(type: ChangeType, timestamp: number, nextPosition = 500, file = 'mysql-bin.000003'): SourceEvent {
  const header = { file, nextPosition, timestamp };
  switch (type) {
    case 'rows':
      return { type, ...header, bytes: 64, kind: 'insert', table: TABLE, present: [true], rows: [{ after: [1] }], noForeignKeyChecks: false };
    case 'query':
      return { type, ...header, sql: 'CREATE TABLE t (id INT)', database: 'app' };
    case 'xid':
      return { type, ...header };
    case 'gtid':
      return { type, ...header, gtid: '0-1-42', impliesBegin: true };
  }
}

function streaming(silenceMs = SILENCE_MS): StreamHealth {
  const h = new StreamHealth(silenceMs);
  h.setStreaming(true, now);
  return h;
}

describe('StreamHealth', () => {
  it('starts disconnected, with lag unknown', () => {
    const h = new StreamHealth(SILENCE_MS);
    expect(h.connected).toBe(false);
    expect(h.lagSeconds(now)).toBeNull();
    expect(h.snapshot(now)).toEqual({
      sourceConnected: false,
      lagSeconds: null,
      pending: false,
      sourceFile: null,
      sourcePosition: null,
      clockOffsetMs: null,
      reconnects: 0,
    });
  });

  it('has lag unknown until streaming starts, even after events', () => {
    const h = new StreamHealth(SILENCE_MS);
    h.observe({ type: 'heartbeat', file: 'mysql-bin.000003', position: 400 }, now);
    expect(h.connected).toBe(false);
    expect(h.lagSeconds(now)).toBeNull();
    h.setStreaming(true, now);
    expect(h.lagSeconds(now)).toBe(0);
  });

  it('reports lag 0 when streaming and settled', () => {
    const h = streaming();
    expect(h.connected).toBe(true);
    expect(h.lagSeconds(now)).toBe(0);
    advance(SILENCE_MS);
    expect(h.connected).toBe(true);
    expect(h.lagSeconds(now)).toBe(0);
  });

  it('loses the connection after a silence longer than silenceMs', () => {
    const h = streaming();
    advance(SILENCE_MS + 1);
    expect(h.connected).toBe(false);
    expect(h.lagSeconds(now)).toBeNull();
    expect(h.snapshot(now).sourceConnected).toBe(false);
  });

  it('stays connected while events keep arriving', () => {
    const h = streaming();
    for (let i = 0; i < 5; i++) {
      advance(SILENCE_MS - 10);
      h.observe({ type: 'heartbeat', file: 'mysql-bin.000003', position: 400 }, now);
    }
    expect(h.connected).toBe(true);
    expect(h.lagSeconds(now)).toBe(0);
    advance(SILENCE_MS + 1);
    expect(h.lagSeconds(now)).toBeNull();
  });

  it('has lag unknown once streaming ends, and forgets what was pending', () => {
    const h = streaming();
    h.observe(change('xid', now - 2000), now);
    h.setStreaming(false, now);
    expect(h.connected).toBe(false);
    expect(h.lagSeconds(now)).toBeNull();
    h.setStreaming(true, now);
    expect(h.lagSeconds(now)).toBe(0);
  });

  it('uses the default silence window of 5 s', () => {
    const h = new StreamHealth();
    h.setStreaming(true, now);
    advance(5000);
    expect(h.connected).toBe(true);
    advance(1);
    expect(h.connected).toBe(false);
  });

  it.each<ChangeType>(['rows', 'query', 'xid', 'gtid'])('measures lag from the first %s event after settling', (type) => {
    const h = streaming(10_000);
    const written = now - 3000;
    h.observe(change(type, written), now);
    expect(h.lagSeconds(now)).toBe(3);
    advance(1500);
    expect(h.lagSeconds(now)).toBe(4.5);
  });

  it('keeps the oldest pending change, not the latest', () => {
    const h = streaming(10_000);
    h.observe(change('gtid', now - 4000, 300), now);
    h.observe(change('rows', now - 1000, 400), now);
    h.observe(change('xid', now, 500), now);
    expect(h.lagSeconds(now)).toBe(4);
    h.settled();
    expect(h.lagSeconds(now)).toBe(0);
    h.observe(change('gtid', now - 1000, 600), now);
    expect(h.lagSeconds(now)).toBe(1);
  });

  it('does not start pending lag from an event without a timestamp', () => {
    const h = streaming();
    h.observe(change('xid', 0, 700), now);
    expect(h.lagSeconds(now)).toBe(0);
    expect(h.sourcePosition).toBe(700);
    h.observe(change('xid', now - 2000, 800), now);
    expect(h.lagSeconds(now)).toBe(2);
  });

  it.each<['heartbeat' | 'rotate']>([['heartbeat'], ['rotate']])('a %s event moves the source position but never starts lag', (type) => {
    const h = streaming();
    h.observe({ type, file: 'mysql-bin.000004', position: 4 }, now);
    expect(h.sourceFile).toBe('mysql-bin.000004');
    expect(h.sourcePosition).toBe(4);
    advance(50);
    expect(h.lagSeconds(now)).toBe(0);
  });

  it('a heartbeat or rotate does not clear pending lag either', () => {
    const h = streaming(10_000);
    h.observe(change('rows', now - 2000), now);
    h.observe({ type: 'heartbeat', file: 'mysql-bin.000003', position: 900 }, now);
    h.observe({ type: 'rotate', file: 'mysql-bin.000004', position: 4 }, now);
    expect(h.lagSeconds(now)).toBe(2);
  });

  it('tracks the source file and position', () => {
    const h = streaming();
    h.observe({ type: 'rotate', file: 'mysql-bin.000003', position: 4 }, now);
    expect([h.sourceFile, h.sourcePosition]).toEqual(['mysql-bin.000003', 4]);
    h.observe(change('gtid', now, 350), now);
    expect([h.sourceFile, h.sourcePosition]).toEqual(['mysql-bin.000003', 350]);
    // Inside MariaDB 11.4+ transactions events carry no offset: the last one stands.
    h.observe(change('rows', now, 0), now);
    expect([h.sourceFile, h.sourcePosition]).toEqual(['mysql-bin.000003', 350]);
    // An event without a file name keeps the known file.
    h.observe(change('xid', now, 420, ''), now);
    expect([h.sourceFile, h.sourcePosition]).toEqual(['mysql-bin.000003', 420]);
    // A rotate to position 0 names the file but keeps the offset.
    h.observe({ type: 'rotate', file: 'mysql-bin.000004', position: 0 }, now);
    expect([h.sourceFile, h.sourcePosition]).toEqual(['mysql-bin.000004', 420]);
    h.observe({ type: 'heartbeat', file: 'mysql-bin.000004', position: 1200 }, now);
    expect([h.sourceFile, h.sourcePosition]).toEqual(['mysql-bin.000004', 1200]);
  });

  it.each<[number | null, number]>([
    [null, 5],
    [0, 5],
    // The source's clock is 2 s ahead of ours: its changes are 2 s older than they look.
    [2000, 7],
    // The source's clock is 1.5 s behind ours.
    [-1500, 3.5],
  ])('shifts the lag by clockOffsetMs %j', (offset, expected) => {
    const h = streaming(10_000);
    h.clockOffsetMs = offset;
    h.observe(change('xid', now - 5000), now);
    expect(h.lagSeconds(now)).toBe(expected);
  });

  it('snapshots what it knows', () => {
    const h = streaming(10_000);
    h.clockOffsetMs = 250;
    h.reconnects = 3;
    h.observe({ type: 'rotate', file: 'mysql-bin.000007', position: 4 }, now);
    h.observe(change('rows', now - 1000, 812, 'mysql-bin.000007'), now);
    advance(500);
    expect(h.snapshot(now)).toEqual({
      sourceConnected: true,
      lagSeconds: 1.75,
      pending: true,
      sourceFile: 'mysql-bin.000007',
      sourcePosition: 812,
      clockOffsetMs: 250,
      reconnects: 3,
    });
    h.settled();
    expect(h.snapshot(now)).toMatchObject({
      sourceConnected: true,
      lagSeconds: 0,
      pending: false,
      appliedThroughFile: 'mysql-bin.000007',
      appliedThroughPosition: 812,
    });
  });
});

describe('applied through (what wait may trust besides the stored position)', () => {
  const through = (h: StreamHealth): [string | undefined, number | undefined] => {
    const s = h.snapshot(now);
    return [s.appliedThroughFile, s.appliedThroughPosition];
  };

  it('moves only when everything received is settled, never with what is merely seen', () => {
    const h = streaming(10_000);
    h.observe(change('xid', now, 500), now);
    expect(through(h)).toEqual([undefined, undefined]);
    h.settled();
    expect(through(h)).toEqual(['mysql-bin.000003', 500]);
    h.observe(change('xid', now, 900), now);
    expect(through(h)).toEqual(['mysql-bin.000003', 500]);
  });

  it('is not moved by a new stream: what the old one saw may have been rolled back (a retry, a reconnect)', () => {
    const h = streaming(10_000);
    h.observe(change('xid', now, 500), now);
    h.settled();
    // A transaction received up to 900, then the session fails and starts again from 500.
    h.observe(change('xid', now - 100, 900), now);
    h.setStreaming(false, now);
    h.setStreaming(true, now);
    // The new stream has nothing pending yet, and has seen past 900 for `status`...
    expect(h.snapshot(now)).toMatchObject({ pending: false, sourcePosition: 900 });
    // ...but nothing it has not settled counts as applied.
    h.settled();
    expect(through(h)).toEqual(['mysql-bin.000003', 500]);
    h.observe({ type: 'rotate', file: 'mysql-bin.000003', position: 500 }, now);
    h.settled();
    expect(through(h)).toEqual(['mysql-bin.000003', 500]);
  });

  it('takes a rotate to offset 0 as the start of the new file, never with the old file offset', () => {
    const h = streaming(10_000);
    h.observe(change('xid', now, 9000), now);
    h.observe({ type: 'rotate', file: 'mysql-bin.000004', position: 0 }, now);
    h.settled();
    expect(through(h)).toEqual(['mysql-bin.000004', 4]);
    h.observe({ type: 'heartbeat', file: 'mysql-bin.000004', position: 385 }, now);
    h.settled();
    expect(through(h)).toEqual(['mysql-bin.000004', 385]);
  });
});

describe('StreamHealth with explicit times', () => {
  it('judges the connection at the time it is asked about', () => {
    const h = new StreamHealth(100);
    h.setStreaming(true, 1000);
    expect(h.lagSeconds(1000)).toBe(0);
    expect(h.lagSeconds(1100)).toBe(0);
    expect(h.lagSeconds(1101)).toBeNull();
    expect(h.snapshot(1101).sourceConnected).toBe(false);
  });
});

describe('tables on the SQL path', () => {
  it('lists each table once, sorted, and nothing when none took it', () => {
    const health = new StreamHealth();
    expect(health.snapshot()).not.toHaveProperty('sqlPathTables');
    health.sqlPath('park.visitors');
    health.sqlPath('park.accounts');
    health.sqlPath('park.visitors');
    expect(health.snapshot().sqlPathTables).toEqual(['park.accounts', 'park.visitors']);
  });

  it('keeps at most 100 of them (the state file is written every second)', () => {
    const health = new StreamHealth();
    for (let i = 0; i < 150; i++) health.sqlPath(`db.t${i}`);
    expect(health.snapshot().sqlPathTables).toHaveLength(100);
  });
});
