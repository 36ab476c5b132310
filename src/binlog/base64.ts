// Pure: base64 (RFC 4648, with padding) written straight into a buffer, of
// several pieces as if they were one. Node 20 encodes base64 only into a
// new string, which a BINLOG statement's query then copies once more into
// its bytes: megabytes per statement, and strings the collector must then
// sweep. Here the pieces (table maps and rows events, views of the
// message they came in) are neither joined nor made a string first.

const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const PAD = 0x3d; // =

/** The base64 length of `bytes` bytes. */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/** Writes the base64 of `pieces` (as one run of bytes) into `into` from `at`; returns where it ends. */
export function writeBase64(pieces: readonly Uint8Array[], into: Uint8Array, at: number): number {
  const a = ALPHABET;
  let o = at;
  // Bytes left over from the end of a piece, carried into the next group of three.
  let carried = 0;
  let c0 = 0;
  let c1 = 0;
  for (const piece of pieces) {
    const n = piece.length;
    let i = 0;
    // Complete the group started by the previous piece.
    while (carried > 0 && i < n) {
      if (carried === 1) {
        c1 = piece[i++]!;
        carried = 2;
      } else {
        const b2 = piece[i++]!;
        into[o] = a[c0 >> 2]!;
        into[o + 1] = a[((c0 & 3) << 4) | (c1 >> 4)]!;
        into[o + 2] = a[((c1 & 15) << 2) | (b2 >> 6)]!;
        into[o + 3] = a[b2 & 63]!;
        o += 4;
        carried = 0;
      }
    }
    const whole = i + Math.floor((n - i) / 3) * 3;
    for (; i < whole; i += 3) {
      const b0 = piece[i]!;
      const b1 = piece[i + 1]!;
      const b2 = piece[i + 2]!;
      into[o] = a[b0 >> 2]!;
      into[o + 1] = a[((b0 & 3) << 4) | (b1 >> 4)]!;
      into[o + 2] = a[((b1 & 15) << 2) | (b2 >> 6)]!;
      into[o + 3] = a[b2 & 63]!;
      o += 4;
    }
    if (i < n) {
      c0 = piece[i++]!;
      carried = 1;
      if (i < n) {
        c1 = piece[i]!;
        carried = 2;
      }
    }
  }
  if (carried === 1) {
    into[o] = a[c0 >> 2]!;
    into[o + 1] = a[(c0 & 3) << 4]!;
    into[o + 2] = PAD;
    into[o + 3] = PAD;
    o += 4;
  } else if (carried === 2) {
    into[o] = a[c0 >> 2]!;
    into[o + 1] = a[((c0 & 3) << 4) | (c1 >> 4)]!;
    into[o + 2] = a[(c1 & 15) << 2]!;
    into[o + 3] = PAD;
    o += 4;
  }
  return o;
}
