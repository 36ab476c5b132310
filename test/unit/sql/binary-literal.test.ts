import fc from 'fast-check';
import mysql from 'mysql2';
import { describe, expect, it } from 'vitest';
import { binaryLiteral, binaryLiteralLength } from '../../../src/sql/binary-literal.js';

/**
 * The server's reading of a quoted string (sql_lex.cc, without
 * NO_BACKSLASH_ESCAPES): a backslash escapes the next byte, `\0 \n \r \t \b
 * \Z` name bytes, any other escaped byte stands for itself; the literal ends
 * at the first quote not escaped. Returns the bytes and where reading stopped.
 */
function serverReads(literal: Buffer): { bytes: Buffer; end: number } {
  const prefix = Buffer.from("_binary'", 'latin1');
  expect(literal.subarray(0, prefix.length).equals(prefix)).toBe(true);
  const named: Record<number, number> = { 0x30: 0, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x5a: 0x1a };
  const out: number[] = [];
  for (let i = prefix.length; i < literal.length; i++) {
    const b = literal[i]!;
    if (b === 0x27) return { bytes: Buffer.from(out), end: i + 1 };
    if (b === 0x5c) {
      const next = literal[++i]!;
      out.push(named[next] ?? next);
    } else out.push(b);
  }
  throw new Error('the literal never ends');
}

const SPECIAL = [0x00, 0x27, 0x5c, 0x0a, 0x0d, 0x1a, 0x22, 0x08, 0x09, 0xff, 0xe0, 0xc3];
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  // Mostly the bytes that matter, and UTF-8 lead bytes before them.
  fc.array(fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: 0, max: 255 })), { maxLength: 300 }).map((a) => Uint8Array.from(a)),
);

describe('binaryLiteral', () => {
  it('is read back by the server as exactly the bytes, ending at its own closing quote', () => {
    fc.assert(
      fc.property(bytes, (value) => {
        const literal = binaryLiteral(value);
        const read = serverReads(literal);
        expect(read.bytes.equals(Buffer.from(value))).toBe(true);
        expect(read.end).toBe(literal.length);
      }),
      { numRuns: 2000 },
    );
  });

  it("uses mysql2's escapes: the body reads back like mysql2's escaping of the same bytes", () => {
    fc.assert(
      fc.property(bytes, (value) => {
        const ours = serverReads(binaryLiteral(value)).bytes;
        // mysql2 escapes a latin1 string byte for byte (one char per byte).
        const theirs = serverReads(Buffer.from(`_binary${mysql.escape(Buffer.from(value).toString('latin1'))}`, 'latin1')).bytes;
        expect(ours.equals(theirs)).toBe(true);
      }),
    );
  });

  it('grows a value by its escaped bytes only, never to hex', () => {
    fc.assert(
      fc.property(bytes, (value) => {
        const special = [...value].filter((b) => [0x00, 0x27, 0x5c, 0x0a, 0x0d, 0x1a].includes(b)).length;
        expect(binaryLiteralLength(value)).toBe(value.length + special + "_binary''".length);
        expect(binaryLiteral(value).length).toBe(binaryLiteralLength(value));
      }),
    );
  });

  it('writes the six escapes as mysql2 does', () => {
    expect(binaryLiteral(Buffer.from([0x00, 0x27, 0x5c, 0x0a, 0x0d, 0x1a, 0x41])).toString('latin1')).toBe("_binary'\\0\\'\\\\\\n\\r\\ZA'");
  });
});
