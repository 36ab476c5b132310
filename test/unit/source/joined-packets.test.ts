import { describe, expect, it } from 'vitest';
import { announcedLength, JoinedParts } from '../../../src/source/joined-packets.js';

/** The first packet of a binlog event of `eventLength` bytes: OK byte, then the event header. */
function firstPart(eventLength: number, size: number): Buffer {
  const part = Buffer.alloc(size, 0xab);
  part[0] = 0x00;
  part.writeUInt32LE(eventLength, 10);
  return part;
}

describe('JoinedParts', () => {
  it('copies the parts of an announced event into one buffer, behind 4 header bytes', () => {
    const parts = new JoinedParts();
    const first = firstPart(99, 60);
    const second = Buffer.alloc(40, 0xcd);
    expect(parts.length).toBe(0);
    parts.push(first);
    parts.push(second);
    expect(parts.length).toBe(2);
    const { buffer, parts: count } = parts.take();
    expect(count).toBe(2);
    expect(buffer.equals(Buffer.concat([Buffer.alloc(4), first, second]))).toBe(true);
    expect(parts.length).toBe(0);
  });

  it('joins the parts as mysql2 does when they are not as announced', () => {
    const parts = new JoinedParts();
    const first = firstPart(70, 60);
    const second = Buffer.alloc(40, 0xcd);
    parts.push(first);
    parts.push(second);
    expect(parts.take().buffer.equals(Buffer.concat([Buffer.alloc(4), first, second]))).toBe(true);
  });

  it('joins packets that are no binlog event as mysql2 does', () => {
    const parts = new JoinedParts();
    const first = Buffer.alloc(30, 0xff);
    parts.push(first);
    parts.push(Buffer.from('tail'));
    expect(parts.take().buffer.equals(Buffer.concat([Buffer.alloc(4), first, Buffer.from('tail')]))).toBe(true);
  });
});

describe('announcedLength', () => {
  it('reads the event length of the header, with the OK byte', () => {
    expect(announcedLength(firstPart(1000, 20))).toBe(1001);
  });

  it('takes nothing that is not a large binlog event', () => {
    expect(announcedLength(Buffer.alloc(8))).toBeUndefined();
    expect(announcedLength(firstPart(10, 20))).toBeUndefined();
    const error = firstPart(1000, 20);
    error[0] = 0xff;
    expect(announcedLength(error)).toBeUndefined();
  });
});
