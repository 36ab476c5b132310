// The masking methods: each turns a column's value into its masked value,
// fitted to the column. Pure and deterministic: the keyed ones (hash, email)
// derive everything from the value and the secret key with HMAC-SHA256, so
// snapshot, start, verify and the before image of an update give the same
// output for the same value, on any machine holding the key.
//
// Values arrive as binlog-sync reads them: strings (UTF-8 text), Buffers
// (bytes: binary columns, text of other character sets, and what snapshot
// and verify read as CAST(c AS BINARY)), numbers and decimal strings. A
// value is masked through its bytes in the column, so a text read as a
// string and the same text read as bytes give one output.
import { createCipheriv, createHmac, type Cipher } from 'node:crypto';
import { asciiWidth, type ColumnFit } from './column-type.js';
import type { MaskMethod } from './rules.js';

/** Masks one value of a column (NULL handling included). */
export type MaskFunction = (value: unknown) => unknown;

export type CompiledMask = { ok: true; apply: MaskFunction } | { ok: false; reason: string };

/** Characters of a keyed text output (128 bits of hex): joins match across columns of at least this many characters. */
export const HASH_CHARS = 32;
/** Bytes of a keyed binary output in a variable-length column. */
const HASH_BYTES = 32;
const EMAIL_DOMAIN = '@example.invalid';
const SHORT_EMAIL_DOMAIN = '@x.invalid';
const EMAIL_LOCAL = 16;
/** The narrowest column an address fits (6 hex characters at the short domain). */
export const EMAIL_MIN_CHARS = 6 + SHORT_EMAIL_DOMAIN.length;

/** Character sets of one byte per character, whose characters redact counts by bytes. */
const SINGLE_BYTE = new Set([
  'latin1', 'latin2', 'latin5', 'latin7', 'ascii', 'cp1250', 'cp1251', 'cp1256', 'cp1257', 'cp850', 'cp852', 'cp866', 'dec8',
  'greek', 'hebrew', 'hp8', 'keybcs2', 'koi8r', 'koi8u', 'macce', 'macroman', 'swe7', 'tis620', 'armscii8', 'geostd8',
]);
const UTF8 = new Set(['utf8', 'utf8mb3', 'utf8mb4']);

/** The bytes of a value as the column holds them. */
export function valueBytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(String(value), 'utf8');
}

/** HMAC-SHA256 of `label`, a NUL and the input: one derivation per method, so outputs of different methods never coincide. */
function hmac(key: Buffer, label: string, input: Buffer): Buffer {
  return createHmac('sha256', key).update(label).update('\0').update(input).digest();
}

/** `length` bytes derived from the input (HMAC in counter mode past 32 bytes). */
function derive(key: Buffer, label: string, input: Buffer, length: number): Buffer {
  if (length <= 32) return hmac(key, label, input).subarray(0, length);
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < length; i++) blocks.push(hmac(key, `${label}#${i}`, input));
  return Buffer.concat(blocks).subarray(0, length);
}

const hex = (key: Buffer, label: string, input: Buffer, chars: number): string =>
  derive(key, label, input, Math.ceil(chars / 2)).toString('hex').slice(0, chars);

/**
 * A keyed permutation of the integers of `bits` bits (a Feistel network over
 * the two halves): distinct inputs give distinct outputs, so a unique
 * integer column stays unique, and every output is in the column's range.
 * The round function is AES-128 under a key derived from the mask key (one
 * block per round, from a cipher kept per key: a new HMAC per round would
 * cost several times more).
 */
export function permuteInteger(key: Buffer, bits: number, unsigned: boolean, value: bigint): bigint {
  const aes = roundCipher(key);
  const half = BigInt(bits / 2);
  const mask = (1n << half) - 1n;
  const offset = unsigned ? 0n : 1n << BigInt(bits - 1);
  const u = value + offset;
  let left = u >> half;
  let right = u & mask;
  const block = Buffer.alloc(16);
  for (let round = 0; round < 4; round++) {
    block.fill(0);
    block.writeUInt8(bits, 0);
    block.writeUInt8(round, 1);
    block.writeBigUInt64BE(right, 8);
    const f = aes.update(block).readBigUInt64BE(0) & mask;
    [left, right] = [right, left ^ f];
  }
  return ((left << half) | right) - offset;
}

const roundCiphers = new WeakMap<Buffer, Cipher>();

function roundCipher(key: Buffer): Cipher {
  let cipher = roundCiphers.get(key);
  if (!cipher) {
    cipher = createCipheriv('aes-128-ecb', hmac(key, 'integer permutation', Buffer.alloc(0)).subarray(0, 16), null).setAutoPadding(false);
    roundCiphers.set(key, cipher);
  }
  return cipher;
}

function integerRange(bits: number, unsigned: boolean): [bigint, bigint] {
  return unsigned ? [0n, (1n << BigInt(bits)) - 1n] : [-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n];
}

/** An integer's value, or undefined when the text is not one. */
function integerOf(value: unknown): bigint | undefined {
  const text = typeof value === 'bigint' ? value.toString() : valueBytes(value).toString('latin1').trim();
  return /^[-+]?\d+$/.test(text) ? BigInt(text) : undefined;
}

/** A decimal's text in one form (no sign on zero, no leading or trailing zeros), however it was read. */
function canonicalDecimal(value: unknown): string {
  const text = valueBytes(value).toString('latin1').trim();
  const m = /^([-+]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m) return text;
  const int = m[2]!.replace(/^0+/, '') || '0';
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const body = frac ? `${int}.${frac}` : int;
  return m[1] === '-' && body !== '0' ? `-${body}` : body;
}

const countsCharacters = (charset: string): boolean => characterCount(Buffer.alloc(0), charset) !== undefined;

/** Characters of a text value in its character set, or undefined for a set whose characters are not counted here. */
function characterCount(bytes: Buffer, charset: string): number | undefined {
  const cs = charset.toLowerCase();
  if (UTF8.has(cs)) {
    let n = 0;
    for (const b of bytes) if ((b & 0xc0) !== 0x80) n++;
    return n;
  }
  if (SINGLE_BYTE.has(cs)) return bytes.length;
  if (cs === 'utf16' || cs === 'utf16le' || cs === 'ucs2') return bytes.length / 2;
  if (cs === 'utf32') return bytes.length / 4;
  return undefined;
}

/** A text in a JavaScript string, for the character sets whose letters are folded here; undefined for others. */
function decodeText(bytes: Buffer, charset: string): string | undefined {
  const cs = charset.toLowerCase();
  if (UTF8.has(cs)) return bytes.toString('utf8');
  if (cs === 'latin1' || cs === 'ascii') return bytes.toString('latin1');
  if (cs === 'utf16le') return bytes.toString('utf16le');
  // The server's ucs2 and utf16 are big-endian.
  if ((cs === 'ucs2' || cs === 'utf16') && bytes.length % 2 === 0) return Buffer.from(bytes).swap16().toString('utf16le');
  return undefined;
}

/**
 * A text as its collation compares it, so that what the source's joins and
 * unique keys call equal masks to one value: trailing spaces dropped under
 * PAD SPACE (all but the NO PAD collations), letter case folded under a
 * case-insensitive (`_ci`) one. Accents are kept: folding them could merge
 * values a collation keeps apart (Swedish å and a), and a unique column
 * would then collide.
 */
export function collationKey(bytes: Buffer, charset: string, collation: string | undefined): Buffer {
  if (!collation) return bytes;
  const c = collation.toLowerCase();
  const pad = c !== 'binary' && !c.includes('_nopad_') && !c.includes('_0900_');
  const ci = c.endsWith('_ci');
  if (!pad && !ci) return bytes;
  const text = decodeText(bytes, charset);
  if (text === undefined) {
    // Another character set: ASCII letters and spaces only (their bytes mean the same there).
    let end = bytes.length;
    if (pad) while (end > 0 && bytes[end - 1] === 0x20) end--;
    const out = Buffer.from(bytes.subarray(0, end));
    if (ci) for (let i = 0; i < out.length; i++) if (out[i]! >= 0x41 && out[i]! <= 0x5a) out[i]! += 0x20;
    return out;
  }
  let folded = pad ? text.replace(/ +$/, '') : text;
  if (ci) folded = folded.toLowerCase();
  // (Always as UTF-8, whatever the column's set: a folded and an unfolded value must meet.)
  return folded === text && UTF8.has(charset.toLowerCase()) ? bytes : Buffer.from(folded, 'utf8');
}

/** Lower-case ASCII, no surrounding white space: how mail systems compare addresses (and a `_ci` column does). */
function foldAddress(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes.toString('latin1').trim(), 'latin1');
  for (let i = 0; i < out.length; i++) if (out[i]! >= 0x41 && out[i]! <= 0x5a) out[i]! += 0x20;
  return out;
}

const isNull = (value: unknown): boolean => value === null || value === undefined;
const keep = (apply: (value: unknown) => unknown): MaskFunction => (value) => (isNull(value) ? value : apply(value));
const refuse = (reason: string): CompiledMask => ({ ok: false, reason });

function compileHash(fit: ColumnFit, key: Buffer): CompiledMask {
  switch (fit.kind) {
    case 'text': {
      const chars = Math.min(HASH_CHARS, fit.maxChars);
      const { charset, collation } = fit;
      return { ok: true, apply: keep((v) => hex(key, 'hash', collationKey(valueBytes(v), charset, collation), chars)) };
    }
    case 'binary': {
      const bytes = fit.fixed ? fit.maxBytes : Math.min(HASH_BYTES, fit.maxBytes);
      return { ok: true, apply: keep((v) => derive(key, 'hash', valueBytes(v), bytes)) };
    }
    case 'json':
      return { ok: true, apply: keep((v) => `"${hex(key, 'hash', valueBytes(v), HASH_CHARS)}"`) };
    case 'integer': {
      const [min, max] = integerRange(fit.bits, fit.unsigned);
      return {
        ok: true,
        apply: keep((v) => {
          const n = integerOf(v);
          // A value outside the type (never read from a column of it) still gets an output in range.
          if (n === undefined || n < min || n > max) return (min + (hmac(key, 'int', valueBytes(v)).readBigUInt64BE(0) % (max - min + 1n))).toString();
          return permuteInteger(key, fit.bits, fit.unsigned, n).toString();
        }),
      };
    }
    case 'decimal': {
      const { precision, scale } = fit;
      const modulus = 10n ** BigInt(precision);
      return {
        ok: true,
        apply: keep((v) => {
          const digits = (derive(key, 'decimal', Buffer.from(canonicalDecimal(v), 'latin1'), 32).readBigUInt64BE(0) % modulus)
            .toString()
            .padStart(precision, '0');
          const int = digits.slice(0, precision - scale).replace(/^0+/, '') || '0';
          return scale > 0 ? `${int}.${digits.slice(precision - scale)}` : int;
        }),
      };
    }
    case 'other':
      return refuse(`hash cannot fit a ${fit.type.toUpperCase()} column; use null or fixed:VALUE`);
  }
}

function compileEmail(fit: ColumnFit, key: Buffer): CompiledMask {
  const width = fit.kind === 'text' ? fit.maxChars : fit.kind === 'binary' && !fit.fixed ? fit.maxBytes : undefined;
  if (width === undefined) return refuse(`email needs a text column (CHAR, VARCHAR, TEXT) or VARBINARY/BLOB, not ${describeKind(fit)}`);
  if (width < EMAIL_MIN_CHARS) return refuse(`email needs a column of at least ${EMAIL_MIN_CHARS} characters (this one holds ${width}); use hash`);
  const domain = width >= EMAIL_LOCAL / 2 + EMAIL_DOMAIN.length ? EMAIL_DOMAIN : SHORT_EMAIL_DOMAIN;
  const local = Math.min(EMAIL_LOCAL, width - domain.length);
  return {
    ok: true,
    apply: keep((v) => {
      const folded = foldAddress(valueBytes(v));
      // No address stays no address: an empty value says nothing about anyone.
      return folded.length === 0 ? '' : `${hex(key, 'email', folded, local)}${domain}`;
    }),
  };
}

function compileRedact(fit: ColumnFit): CompiledMask {
  if (fit.kind === 'binary') return { ok: true, apply: keep((v) => Buffer.alloc(valueBytes(v).length, 'x')) };
  if (fit.kind !== 'text') return refuse(`redact keeps a value's length, which ${describeKind(fit)} does not have; use null, hash or fixed:VALUE`);
  const { charset } = fit;
  if (!countsCharacters(charset)) return refuse(`redact cannot count the characters of ${charset} text; use hash or fixed:VALUE`);
  return { ok: true, apply: keep((v) => 'x'.repeat(characterCount(valueBytes(v), charset)!)) };
}

function compileFixed(fit: ColumnFit, value: string): CompiledMask {
  const tooLong = (n: number, limit: number): CompiledMask => refuse(`fixed:${value} is ${n} long, more than the column's ${limit}`);
  switch (fit.kind) {
    case 'text':
      if ([...value].length > fit.maxChars) return tooLong([...value].length, fit.maxChars);
      break;
    case 'binary':
      if (Buffer.byteLength(value) > fit.maxBytes) return tooLong(Buffer.byteLength(value), fit.maxBytes);
      break;
    case 'integer': {
      const n = integerOf(value);
      const [min, max] = integerRange(fit.bits, fit.unsigned);
      if (n === undefined || n < min || n > max) return refuse(`fixed:${value} is not a whole number from ${min} to ${max}`);
      break;
    }
    case 'decimal': {
      const m = /^-?(\d+)(?:\.(\d+))?$/.exec(value);
      if (!m || (m[1]!.replace(/^0+/, '').length > fit.precision - fit.scale) || (m[2] ?? '').length > fit.scale || (fit.unsigned && value.startsWith('-'))) {
        return refuse(`fixed:${value} does not fit DECIMAL(${fit.precision},${fit.scale})`);
      }
      break;
    }
    case 'json':
      try {
        JSON.parse(value);
      } catch {
        return refuse(`fixed:${value} is not a JSON value`);
      }
      break;
    case 'other':
      break; // the server converts it (a date, an ENUM member...); check with `binlog-sync check`
  }
  // Every row, NULL or not: the one method that fills NULLs too.
  return { ok: true, apply: () => value };
}

function describeKind(fit: ColumnFit): string {
  switch (fit.kind) {
    case 'integer':
      return 'an integer column';
    case 'decimal':
      return 'a DECIMAL column';
    case 'json':
      return 'a JSON column';
    case 'binary':
      return fit.fixed ? 'a BINARY column' : 'a binary column';
    case 'text':
      return 'a text column';
    case 'other':
      return `a ${fit.type.toUpperCase()} column`;
  }
}

/**
 * A value as the column holds it, whichever way it was read: a CHAR's
 * trailing spaces and a BINARY's trailing zero bytes are padding, which one
 * reading keeps and another drops.
 */
function unpadded(fit: ColumnFit): ((value: unknown) => unknown) | undefined {
  if (fit.kind === 'text' && fit.fixed && asciiWidth(fit.charset) === 1) {
    return (v) => {
      const bytes = valueBytes(v);
      let end = bytes.length;
      while (end > 0 && bytes[end - 1] === 0x20) end--;
      return bytes.subarray(0, end);
    };
  }
  if (fit.kind === 'binary' && fit.fixed) {
    return (v) => {
      const bytes = valueBytes(v);
      if (bytes.length >= fit.maxBytes) return bytes;
      const padded = Buffer.alloc(fit.maxBytes);
      bytes.copy(padded);
      return padded;
    };
  }
  return undefined;
}

/**
 * The mask of a method for a column of this fit, or why it cannot be
 * honoured there. `key` is required for the keyed methods (the caller
 * checks that it was given).
 */
export function compileMask(method: MaskMethod, fit: ColumnFit, key: Buffer | undefined): CompiledMask {
  const compiled = compileMethod(method, fit, key);
  const normalise = unpadded(fit);
  if (!compiled.ok || !normalise) return compiled;
  const { apply } = compiled;
  return { ok: true, apply: (v) => (isNull(v) ? apply(v) : apply(normalise(v))) };
}

function compileMethod(method: MaskMethod, fit: ColumnFit, key: Buffer | undefined): CompiledMask {
  switch (method.name) {
    case 'null':
      return { ok: true, apply: () => null };
    case 'redact':
      return compileRedact(fit);
    case 'fixed':
      return compileFixed(fit, method.value);
    case 'hash':
    case 'email':
      if (!key) return refuse(`${method.name} needs the secret key: --mask-key-file FILE`);
      return method.name === 'hash' ? compileHash(fit, key) : compileEmail(fit, key);
  }
}

/**
 * Why a method cannot be used on a column with these constraints: NULL into
 * NOT NULL, or one value (or one length) for every row of a column that is a
 * unique key alone.
 */
export function constraintRefusal(method: MaskMethod, column: { nullable: boolean; unique: boolean }): string | undefined {
  if (method.name === 'null' && !column.nullable) return 'null on a NOT NULL column; use hash, redact or fixed:VALUE';
  if (column.unique && (method.name === 'fixed' || method.name === 'redact')) {
    return `${method.name} on a unique column would make its rows collide; use hash or email`;
  }
  return undefined;
}
