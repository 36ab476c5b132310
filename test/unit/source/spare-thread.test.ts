import { afterEach, describe, expect, it } from 'vitest';
import { decodeThreadHeap, decodeThreadWanted, rememberSourcePacket, SOURCE_PACKET_MARKER, type PacketMemory } from '../../../src/source/spare-thread.js';

/** A state file's markers, in memory, counting the writes. */
function memory(initial: Record<string, string> = {}): PacketMemory & { writes: number; markers: Record<string, string> } {
  const markers = { ...initial };
  return {
    markers,
    writes: 0,
    getMarker: (name) => markers[name] ?? null,
    setMarker(name, value) {
      this.writes += 1;
      if (value === null) delete markers[name];
      else markers[name] = value;
    },
  };
}

describe('the spare decoding thread', () => {
  afterEach(() => {
    delete process.env.BINLOG_SYNC_DECODE_THREAD_HEAP_MB;
  });

  it('is sized as the stream needs it: 64 MiB and room for three copies of the largest row, or as BINLOG_SYNC_DECODE_THREAD_HEAP_MB says', () => {
    expect(decodeThreadHeap()).toEqual({ maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 });
    expect(decodeThreadHeap(16 * 1024 * 1024)).toEqual({ maxOldGenerationSizeMb: 112, maxYoungGenerationSizeMb: 8 });
    expect(decodeThreadHeap(4 * 1024 * 1024 * 1024)).toEqual({ maxOldGenerationSizeMb: 64 + 3072, maxYoungGenerationSizeMb: 8 });
    process.env.BINLOG_SYNC_DECODE_THREAD_HEAP_MB = '4';
    expect(decodeThreadHeap(16 * 1024 * 1024)).toEqual({ maxOldGenerationSizeMb: 4, maxYoungGenerationSizeMb: 8 });
  });

  it('remembers the source packet in the state file, writing only when it changed', () => {
    const state = memory();
    rememberSourcePacket(state, 16_777_216);
    rememberSourcePacket(state, 16_777_216);
    expect(state.markers).toEqual({ [SOURCE_PACKET_MARKER]: '16777216' });
    expect(state.writes).toBe(1);
    rememberSourcePacket(state, 0); // unknown: nothing to remember
    rememberSourcePacket(state, 1_073_741_824);
    expect(state.markers[SOURCE_PACKET_MARKER]).toBe('1073741824');
    expect(state.writes).toBe(2);
  });

  it('is wanted unless BINLOG_SYNC_DECODE_THREAD=0', () => {
    expect(decodeThreadWanted({})).toBe(true);
    expect(decodeThreadWanted({ BINLOG_SYNC_DECODE_THREAD: '1' })).toBe(true);
    expect(decodeThreadWanted({ BINLOG_SYNC_DECODE_THREAD: '0' })).toBe(false);
  });
});
