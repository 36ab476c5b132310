// Pure: byte values as escaped binary string literals, `_binary'...'`, with
// the escapes mysql2 (and mysql_real_escape_string) use: \0 ' \ newline,
// carriage return and ^Z. A value grows by its escaped bytes only, where hex
// (X'..') doubles it: what lets a row near max_allowed_packet through.
// The bytes go into the query as they are (see db/large-query.ts): under a
// utf8mb4 client character set the server's lexer never reads a backslash
// or a quote as part of a multi-byte character (UTF-8 continuation bytes are
// all >= 0x80), so the literal ends exactly where it should, and the
// `_binary` introducer keeps the bytes from being converted.

/**
 * Marks a large value's place in a statement text built with its values
 * inline (see prepare.ts): mysql2 escapes a NUL in any value it writes (as
 * \\0) and identifiers cannot hold one, so a NUL there is always a mark.
 */
export const BLOB_MARK = '\0';

const BACKSLASH = 0x5c;
const INTRODUCER = Buffer.from("_binary'", 'latin1');
const QUOTE = 0x27;

/** The escape letter of each byte that needs one (0 where none). */
const ESCAPED = new Uint8Array(256);
ESCAPED[0x00] = 0x30; // \0
ESCAPED[0x27] = 0x27; // \'
ESCAPED[0x5c] = 0x5c; // \\
ESCAPED[0x0a] = 0x6e; // \n
ESCAPED[0x0d] = 0x72; // \r
ESCAPED[0x1a] = 0x5a; // \Z

/**
 * Bytes of the quoted literal for `value` (quotes included, no introducer:
 * a statement text puts `_binary` before the mark of a byte value, nothing
 * before that of a text value, whose bytes are its UTF-8).
 */
export function quotedLiteralLength(value: Uint8Array): number {
  let length = value.length + 2;
  for (let i = 0; i < value.length; i++) if (ESCAPED[value[i]!] !== 0) length++;
  return length;
}

/** Writes the quoted literal for `value` into `target` at `offset`; returns the offset after it. */
export function writeQuotedLiteral(value: Uint8Array, target: Buffer, offset: number): number {
  let o = offset;
  target[o++] = QUOTE;
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const escaped = ESCAPED[value[i]!]!;
    if (escaped === 0) continue;
    // Runs without special bytes are copied whole (most of a large value).
    if (i > from) {
      target.set(value.subarray(from, i), o);
      o += i - from;
    }
    target[o++] = BACKSLASH;
    target[o++] = escaped;
    from = i + 1;
  }
  if (value.length > from) {
    target.set(value.subarray(from), o);
    o += value.length - from;
  }
  target[o++] = QUOTE;
  return o;
}

/** Bytes of `_binary'...'` for `value`. */
export function binaryLiteralLength(value: Uint8Array): number {
  return INTRODUCER.length - 1 + quotedLiteralLength(value);
}

/** `_binary'...'` for `value`, as its own Buffer. */
export function binaryLiteral(value: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(binaryLiteralLength(value));
  writeQuotedLiteral(value, out, INTRODUCER.copy(out, 0, 0, INTRODUCER.length - 1));
  return out;
}
