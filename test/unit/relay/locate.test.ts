import { describe, expect, it } from 'vitest';
import { locate } from '../../../src/relay/locate.js';
import { resumePoint } from '../../../src/relay/relay.js';
import type { StoredMessage } from '../../../src/relay/nats-stream.js';

/** Messages 5..9 of a stream (1..4 removed by retention), ending at these positions. */
const ends: Array<[string, number]> = [
  ['b.000001', 400],
  ['b.000001', 900],
  ['b.000002', 300],
  ['b.000002', 700],
  ['b.000003', 120],
];
const message = (seq: number): StoredMessage | null => {
  const end = ends[seq - 5];
  if (!end) return null;
  const previous = ends[seq - 6] ?? ['b.000001', 100];
  return { seq, data: new Uint8Array(0), place: { file: end[0], position: end[1], gtid: null, commitTime: 0, after: { file: previous[0], position: previous[1] }, part: 1, parts: 1 } };
};
const get = async (seq: number): Promise<StoredMessage | null> => message(seq);

describe('locate', () => {
  it.each([
    ['b.000001', 100, 5],
    ['b.000001', 400, 6],
    ['b.000001', 650, 6],
    ['b.000001', 900, 7],
    ['b.000002', 4, 7],
    ['b.000002', 700, 9],
    ['b.000003', 120, 10],
    ['b.000004', 4, 10],
  ])('a replica at %s:%d reads from message %d', async (file, position, seq) => {
    expect(await locate({ file, position }, 5, 9, get)).toBe(seq);
  });

  it('refuses positions of another source', async () => {
    await expect(locate({ file: 'other-bin.000001', position: 4 }, 5, 9, get)).rejects.toThrow(/not of the same source/);
  });

  it('reads from the next message of an empty stream', async () => {
    expect(await locate({ file: 'b.000001', position: 4 }, 0, 0, get)).toBe(1);
  });
});

describe('resumePoint', () => {
  const stored = { file: 'b.000002', position: 500, gtid: '0-1-9' };
  it("continues after the stream's last message when it is at or past the state file", () => {
    expect(resumePoint(message(9), stored)).toEqual({ file: 'b.000003', position: 120, gtid: null });
  });

  it('continues where the state file says when it moved past the last message (other databases)', () => {
    expect(resumePoint(message(6), stored)).toEqual({ file: 'b.000002', position: 500, gtid: null });
  });

  it('publishes a transaction again whose parts were not all published', () => {
    const part = message(9)!;
    part.place = { ...part.place, part: 1, parts: 3 };
    expect(resumePoint(part, null)).toEqual({ file: 'b.000002', position: 700, gtid: null });
  });

  it('refuses to start with neither', () => {
    expect(() => resumePoint(null, null)).toThrow(/no start position and its stream is empty: run `binlog-sync position set --current/);
  });
});
