import { describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { clientBytes, clientText } from '../../../src/sql/client-text.js';

// What zongji makes of the bytes: UTF-8 decoding, a replacement character for each invalid byte.
const asZongji = (raw: Buffer): string => raw.toString('utf8');

describe('clientText', () => {
  it('keeps ASCII and valid UTF-8 text of a UTF-8 client as it is', () => {
    expect(clientText('CREATE TABLE t (a INT)', undefined, 'latin1')).toEqual({ sql: 'CREATE TABLE t (a INT)' });
    const raw = Buffer.from("CREATE TABLE t (e ENUM('ÿ', '日本'))", 'utf8');
    expect(clientText(asZongji(raw), raw, 'utf8mb4')).toEqual({ sql: "CREATE TABLE t (e ENUM('ÿ', '日本'))" });
  });

  it('reads a latin1 client\'s bytes one character each, and gives the same bytes back', () => {
    const raw = Buffer.from("CREATE TABLE t (e ENUM('\xff', '\xe9t\xe9')) COMMENT '\x80'", 'latin1');
    const text = clientText(asZongji(raw), raw, 'latin1');
    expect(text).toEqual({ sql: "CREATE TABLE t (e ENUM('ÿ', 'été')) COMMENT '\u0080'", encoding: 'binary' });
    expect(clientBytes(text.sql, text.encoding)).toEqual(raw);
  });

  it('reads a multi-byte client character set with its decoder, where a second byte is a backslash', () => {
    // 0x955C in Shift_JIS is one character whose second byte is '\'.
    const raw = Buffer.concat([Buffer.from("INSERT INTO t VALUES ('"), Buffer.from([0x95, 0x5c]), Buffer.from("')")]);
    const text = clientText(asZongji(raw), raw, 'sjis');
    expect(text.encoding).toBe('iconv:shift_jis');
    expect(text.sql).toBe(`INSERT INTO t VALUES ('${iconv.decode(Buffer.from([0x95, 0x5c]), 'shift_jis')}')`);
    expect(clientBytes(text.sql, text.encoding)).toEqual(raw);
  });

  it('keeps bytes that are not valid in the client character set, one character each', () => {
    const raw = Buffer.from([0x53, 0x45, 0x4c, 0x20, 0x27, 0xff, 0xfe, 0x27]);
    for (const charset of ['utf8mb4', 'sjis', undefined]) {
      const text = clientText(asZongji(raw), raw, charset);
      expect(text.encoding).toBe('binary');
      expect(clientBytes(text.sql, text.encoding)).toEqual(raw);
    }
  });

  it('sends UTF-8 text as a string', () => {
    expect(clientBytes('SELECT 1', undefined)).toBe('SELECT 1');
  });
});
