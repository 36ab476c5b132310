// The base64 writer against Node's own encoder, over pieces cut at every
// place a group of three can be cut.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base64Length, writeBase64 } from '../../../src/binlog/base64.js';

function encoded(pieces: Uint8Array[]): string {
  const total = pieces.reduce((n, p) => n + p.length, 0);
  const into = Buffer.alloc(base64Length(total) + 4, 0x21);
  const end = writeBase64(pieces, into, 2);
  expect(end).toBe(2 + base64Length(total));
  // (Nothing written outside its place.)
  expect([into[0], into[1], into[end], into[end + 1]]).toEqual([0x21, 0x21, 0x21, 0x21]);
  return into.toString('latin1', 2, end);
}

describe('base64 into a buffer', () => {
  it('writes what Buffer#toString("base64") writes, of one piece of every length', () => {
    for (let n = 0; n <= 50; n++) {
      const bytes = randomBytes(n);
      expect(encoded([bytes])).toBe(bytes.toString('base64'));
    }
  });

  it('writes pieces as one run of bytes, wherever they are cut', () => {
    const bytes = randomBytes(40);
    for (let a = 0; a <= 40; a++) {
      for (const b of [a, Math.min(40, a + 1), Math.min(40, a + 2), Math.min(40, a + 5)]) {
        const pieces = [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)];
        expect(encoded(pieces)).toBe(bytes.toString('base64'));
      }
    }
    // Many one-byte pieces, and empty ones.
    const ones = [...bytes].map((b) => Uint8Array.of(b));
    expect(encoded([new Uint8Array(0), ...ones, new Uint8Array(0)])).toBe(bytes.toString('base64'));
  });

  it('writes runs longer than the chunk it encodes at a time, cut anywhere', () => {
    // (48 KiB chunks: cuts just before, at and after a chunk's end, and runs of several chunks.)
    const bytes = randomBytes(3 * 48 * 1024 + 7);
    for (const cuts of [[], [49_151], [49_152], [49_153], [1, 98_304], [100, 50_000, 120_000]]) {
      const ends = [0, ...cuts, bytes.length];
      const pieces = ends.slice(1).map((end, k) => bytes.subarray(ends[k], end));
      expect(encoded(pieces)).toBe(bytes.toString('base64'));
    }
  });
});
