import { describe, expect, it } from 'vitest';
import { OWN_COPY_BYTES, PACKET_BODY_BYTES, transferList, type ValueSlot } from '../../../src/source/wire-transfer.js';

function slots(values: Uint8Array[]): ValueSlot[] {
  return values.map((_, i) => ({ get: () => values[i]!, set: (v) => (values[i] = v) }));
}

describe('transferList', () => {
  it('moves a reassembled packet body whole, with every value that is a view of it, at no copy', () => {
    const body = Buffer.alloc(PACKET_BODY_BYTES + 100);
    const values = [body.subarray(10, 20), body.subarray(100, 100 + OWN_COPY_BYTES * 2)];
    const before = [...values];
    expect(transferList(slots(values))).toEqual([body.buffer]);
    expect(values).toEqual(before);
    expect(values[0]!.buffer).toBe(body.buffer);
  });

  it('moves a large value that owns its memory as it is', () => {
    const own = new Uint8Array(OWN_COPY_BYTES);
    const values = [own];
    expect(transferList(slots(values))).toEqual([own.buffer]);
    expect(values[0]).toBe(own);
  });

  it('copies a large view of a shared buffer into memory of its own, which moves; the shared buffer stays', () => {
    const shared = Buffer.alloc(4 * OWN_COPY_BYTES, 7);
    const values = [shared.subarray(OWN_COPY_BYTES, 3 * OWN_COPY_BYTES)];
    const list = transferList(slots(values));
    expect(list).toHaveLength(1);
    expect(list[0]).not.toBe(shared.buffer);
    expect(values[0]!.buffer).toBe(list[0]);
    expect(Buffer.from(values[0]!).equals(shared.subarray(OWN_COPY_BYTES, 3 * OWN_COPY_BYTES))).toBe(true);
  });

  it('moves one buffer once, whatever number of values share it', () => {
    const own = new Uint8Array(OWN_COPY_BYTES);
    expect(transferList(slots([own, own]))).toEqual([own.buffer]);
  });

  it('leaves small values to be copied with the message, apart from a large buffer they are a view of', () => {
    const pooled = Buffer.alloc(64);
    const big = Buffer.alloc(2 * 1024 * 1024);
    const values: Uint8Array[] = [pooled.subarray(0, 8), big.subarray(0, 8)];
    expect(transferList(slots(values))).toEqual([]);
    expect(values[0]!.buffer).toBe(pooled.buffer);
    expect(values[1]!.buffer).not.toBe(big.buffer);
    expect(values[1]!.byteLength).toBe(8);
  });
});
