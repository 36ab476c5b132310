import { describe, expect, it } from 'vitest';
import { endsAt, locate, locateFrom, storedSeqOf } from '../../../src/relay/locate.js';
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

describe('locateFrom', () => {
  /** `get`, counting the reads. */
  const counted = (): { reads: number[]; get: typeof get } => {
    const reads: number[] = [];
    return { reads, get: async (seq) => (reads.push(seq), message(seq)) };
  };

  it('reads after the stored sequence when its message ends at the position: one read, no search', async () => {
    const { reads, get: read } = counted();
    expect(await locateFrom({ file: 'b.000002', position: 300 }, 7, 5, 9, read)).toEqual({ seq: 8, by: 'sequence' });
    expect(reads).toEqual([7]);
    expect(await locateFrom({ file: 'b.000003', position: 120 }, 9, 5, 9, get)).toEqual({ seq: 10, by: 'sequence' });
  });

  it.each<[string, { file: string; position: number }, number | null]>([
    ['no sequence stored', { file: 'b.000002', position: 300 }, null],
    ['the message there ends elsewhere (the stream was recreated)', { file: 'b.000002', position: 300 }, 6],
    ['the message there was removed by retention', { file: 'b.000002', position: 300 }, 3],
    ['the sequence is past the stream (recreated, shorter)', { file: 'b.000002', position: 300 }, 12],
    ['a position between messages (set by file and offset)', { file: 'b.000002', position: 500 }, 7],
  ])('searches by the position when %s', async (_why, at, storedSeq) => {
    const found = await locateFrom(at, storedSeq, 5, 9, get);
    expect(found).toEqual({ seq: await locate(at, 5, 9, get), by: 'search' });
  });

  it('searches when the message there is a part before the last of its transaction', async () => {
    const part = async (seq: number): Promise<StoredMessage | null> => {
      const m = message(seq);
      return m && seq === 7 ? { ...m, place: { ...m.place, part: 1, parts: 2 } } : m;
    };
    expect((await locateFrom({ file: 'b.000002', position: 300 }, 7, 5, 9, part)).by).toBe('search');
  });

  it('knows the last part of the transaction that ends at a position', () => {
    const place = message(7)!.place;
    expect(endsAt(place, { file: 'b.000002', position: 300 })).toBe(true);
    expect(endsAt(place, { file: 'b.000002', position: 301 })).toBe(false);
    expect(endsAt(place, { file: 'b.000001', position: 300 })).toBe(false);
    expect(endsAt({ ...place, part: 2, parts: 3 }, { file: 'b.000002', position: 300 })).toBe(false);
  });
});

describe('storedSeqOf', () => {
  const at = { file: 'b.000002', position: 300, gtid: null };
  it('takes the sequence of the first record at that very position that has one', () => {
    expect(storedSeqOf(at, { file: 'b.000002', position: 300, streamSeq: 7 }, { file: 'b.000002', position: 300, streamSeq: 9 })).toBe(7);
    expect(storedSeqOf(at, { file: 'b.000002', position: 300, streamSeq: null }, { file: 'b.000002', position: 300, streamSeq: 9 })).toBe(9);
    expect(storedSeqOf(at, null, undefined, { file: 'b.000002', position: 300, streamSeq: 9 })).toBe(9);
  });

  it('is null when none is at the position (another record was ahead) or none has one', () => {
    expect(storedSeqOf(at, { file: 'b.000002', position: 200, streamSeq: 6 })).toBeNull();
    expect(storedSeqOf(at, { file: 'b.000001', position: 300, streamSeq: 6 })).toBeNull();
    expect(storedSeqOf(at, { file: 'b.000002', position: 300 })).toBeNull();
    expect(storedSeqOf(at)).toBeNull();
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
