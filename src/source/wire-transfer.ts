// Pure: which memory of a message to the main thread is moved rather than
// copied (see decode-thread.ts). postMessage copies every ArrayBuffer a
// byte value is a view of, whole, twice (into the message, then out of it
// on the other side), unless it is in the transfer list. A large value of a
// row is a view of the reassembled packet that held its rows event: copied,
// a 100 MB value would cost the event's bytes twice more per message.
// Measured before this (30 MB values): the decoding thread held 4 times the
// row and the main thread 2 times more.

/**
 * A buffer at least this large is a reassembled packet body (mysql2 joins
 * the 16 MiB packets of a larger event into one buffer of its own; socket
 * reads and single packets are smaller): the event is done with when its
 * message is sent, so the body moves to the main thread whole, with every
 * value that is a view of it, at no copy.
 */
export const PACKET_BODY_BYTES = 16 * 1024 * 1024;

/**
 * A value from this size that is a view of a smaller, shared buffer (a
 * socket read, a packet of several events) is copied once into its own
 * memory, which then moves: the shared buffer may still be read.
 */
export const OWN_COPY_BYTES = 16 * 1024;

/**
 * A small view of a buffer this large, not moved, is copied apart: else the
 * message would carry the whole buffer for a few bytes of it.
 */
const SHARED_BUFFER_BYTES = 1024 * 1024;

/** A place that holds a byte value in a message: read it, and put a replacement. */
export interface ValueSlot {
  get(): Uint8Array;
  set(value: Uint8Array): void;
}

/**
 * Decides for every byte value of a message (the slots) whether its memory
 * moves whole, is first copied into memory of its own that moves, or is
 * left to be copied with the message (small values); replaces the values
 * that are copied, and returns the transfer list.
 */
export function transferList(slots: Iterable<ValueSlot>): ArrayBuffer[] {
  const moving = new Set<ArrayBuffer>();
  const small: ValueSlot[] = [];
  const later: ValueSlot[] = [];
  for (const slot of slots) {
    const value = slot.get();
    const memory = value.buffer;
    // (A SharedArrayBuffer is shared already, never moved.)
    if (!(memory instanceof ArrayBuffer)) continue;
    if (memory.byteLength >= PACKET_BODY_BYTES) moving.add(memory);
    else if (value.byteLength >= OWN_COPY_BYTES) later.push(slot);
    else small.push(slot);
  }
  for (const slot of later) {
    const value = slot.get();
    const memory = value.buffer as ArrayBuffer;
    if (moving.has(memory)) continue;
    if (value.byteOffset === 0 && value.byteLength === memory.byteLength) {
      moving.add(memory);
    } else {
      const own = new Uint8Array(value); // (a copy: Buffer's own slice() is a view)
      slot.set(own);
      moving.add(own.buffer);
    }
  }
  for (const slot of small) {
    const value = slot.get();
    const memory = value.buffer as ArrayBuffer;
    if (!moving.has(memory) && memory.byteLength >= SHARED_BUFFER_BYTES && value.byteLength < memory.byteLength) slot.set(new Uint8Array(value));
  }
  return [...moving];
}
