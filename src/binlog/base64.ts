// Pure: base64 (RFC 4648, with padding) written straight into a buffer, of
// several pieces as if they were one. Node 20 encodes base64 only into a new
// string, so the pieces (table maps and rows events, views of the message
// they came in) are gathered into a scratch buffer a bounded chunk at a time
// (a multiple of three bytes, so every chunk but the last ends on a whole
// group) and each chunk is encoded by Node's native encoder and copied into
// place. Measured against a byte-by-byte loop in JavaScript: the same at 200
// bytes, 2x faster at 700, 6-9x from 5 KB; the chunk's string is at most
// 64 KiB, young garbage whatever the statement's size.

/** Bytes encoded per native call: 3 × 16 KiB (a whole number of groups). */
const CHUNK = 3 * 16 * 1024;
let scratch: Buffer | undefined;

/** The base64 length of `bytes` bytes. */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/** Writes the base64 of `pieces` (as one run of bytes) into `into` from `at`; returns where it ends. */
export function writeBase64(pieces: readonly Uint8Array[], into: Buffer, at: number): number {
  const chunk = (scratch ??= Buffer.allocUnsafe(CHUNK));
  let filled = 0;
  let o = at;
  for (const piece of pieces) {
    for (let i = 0; i < piece.length; ) {
      const n = Math.min(CHUNK - filled, piece.length - i);
      chunk.set(n === piece.length ? piece : piece.subarray(i, i + n), filled);
      filled += n;
      i += n;
      if (filled === CHUNK) {
        o += into.write(chunk.toString('base64', 0, filled), o, 'latin1');
        filled = 0;
      }
    }
  }
  if (filled > 0) o += into.write(chunk.toString('base64', 0, filled), o, 'latin1');
  return o;
}
