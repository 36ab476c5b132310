// The relay's freshness: lag is the age (on the source's clock) of the
// oldest transaction read and not yet stored in the stream, 0 when all is
// stored, unknown when the source is silent or no session streams; what a
// failed session read is forgotten with it.
import { describe, expect, it } from 'vitest';
import { RelayHealth } from '../../../src/relay/relay-health.js';
import type { Durable } from '../../../src/relay/publisher.js';

const T0 = Date.UTC(2026, 11, 7, 12);

function stored(position: number, commitTime: number | null): Durable {
  return { file: 'mysql-bin.000002', position, gtid: commitTime === null ? null : `0-1-${position}`, commitTime, seq: commitTime === null ? null : position, events: 4, bytes: 300, duplicates: 0 };
}

describe('RelayHealth', () => {
  it('measures lag from the oldest transaction read and not stored, on the source clock', () => {
    const health = new RelayHealth(5000);
    health.clockOffsetMs = 2000;
    health.streaming = true;
    health.seen(T0);
    expect(health.lagSeconds(T0)).toBe(0);
    health.read(T0 - 1000);
    health.read(T0 + 500);
    // Source now = T0 + 3000 + 2000.
    expect(health.lagSeconds(T0 + 3000)).toBe(6);
    health.durable(stored(100, T0 - 1000));
    expect(health.lagSeconds(T0 + 3000)).toBe(4.5);
    // A position passed (another database's transaction) stores nothing read.
    health.durable(stored(150, null));
    expect(health.lagSeconds(T0 + 3000)).toBe(4.5);
    health.durable(stored(200, T0 + 500));
    expect(health.lagSeconds(T0 + 3000)).toBe(0);
    expect(health.lastCommitTime).toBe(T0 + 500);
    expect(health.snapshot(T0 + 3000)).toMatchObject({ sourceConnected: true, lagSeconds: 0, pending: false, sourceFile: 'mysql-bin.000002', sourcePosition: 200, appliedThroughPosition: 200 });
  });

  it('knows no lag while the source is silent or no session streams', () => {
    const health = new RelayHealth(5000);
    expect(health.lagSeconds(T0)).toBeNull();
    health.streaming = true;
    health.seen(T0);
    health.read(T0);
    expect(health.lagSeconds(T0 + 5000)).toBe(5);
    expect(health.lagSeconds(T0 + 5001)).toBeNull();
    expect(health.snapshot(T0 + 5001)).toMatchObject({ sourceConnected: false, lagSeconds: null, pending: true });
  });

  it('forgets what a session read when it ends: the next one reads it again', () => {
    const health = new RelayHealth(5000);
    health.streaming = true;
    health.seen(T0);
    health.read(T0 - 60_000);
    health.watchPublisher({ inFlight: 3 });
    expect(health.inFlight).toBe(3);
    health.ended();
    expect(health.inFlight).toBe(0);
    expect(health.lagSeconds(T0)).toBeNull();
    health.streaming = true;
    health.seen(T0);
    health.read(T0 - 1000);
    // Measured from the transaction read again, not the old session's.
    expect(health.lagSeconds(T0)).toBe(1);
  });
});
