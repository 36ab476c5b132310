// Pure: a statement's text in the character set its source session wrote it
// in (character_set_client). The binlog keeps a Query event's text as the
// client's bytes; the server's own replica runs those bytes again under the
// same character_set_client. binlog-sync reads the text as a string (to
// filter and rewrite it) and turns it back into the same bytes to run it.
import iconv from 'iconv-lite';

/**
 * How text becomes the client's bytes again: 'utf8', 'binary' (each
 * character one byte, U+0000 to U+00FF: exact for any bytes, and for the
 * ASCII that statements are made of, so the lexer reads them right), or an
 * iconv-lite encoding of a multi-byte character set (whose second bytes may
 * be quotes or backslashes to a byte-wise lexer).
 */
export type TextEncoding = 'utf8' | 'binary' | `iconv:${string}`;

/** Multi-byte client character sets, by MySQL name, and iconv-lite's name of each. */
const MULTI_BYTE: Readonly<Record<string, string>> = {
  sjis: 'shift_jis',
  cp932: 'cp932',
  ujis: 'euc-jp',
  eucjpms: 'euc-jp',
  gbk: 'gbk',
  gb2312: 'gb2312',
  gb18030: 'gb18030',
  big5: 'big5',
  euckr: 'euc-kr',
};

const UTF8 = new Set(['utf8', 'utf8mb3', 'utf8mb4']);

/**
 * The statement's text from its bytes (`raw`; undefined when they are all
 * ASCII, and `decoded` is exact) written under `clientCharset` (MySQL's
 * name; undefined when not known), and how to make the same bytes of it
 * again: undefined for UTF-8 text, as strings travel.
 */
export function clientText(decoded: string, raw: Buffer | undefined, clientCharset: string | undefined): { sql: string; encoding?: TextEncoding } {
  if (!raw) return { sql: decoded };
  const valid = Buffer.from(decoded, 'utf8').equals(raw);
  if (valid && (clientCharset === undefined || UTF8.has(clientCharset))) return { sql: decoded };
  const multi = clientCharset ? MULTI_BYTE[clientCharset] : undefined;
  if (multi && iconv.encodingExists(multi)) {
    const text = iconv.decode(raw, multi);
    // (Only where it gives the very bytes back: else each byte stays a character.)
    if (iconv.encode(text, multi).equals(raw)) return { sql: text, encoding: `iconv:${multi}` };
  }
  return { sql: raw.toString('latin1'), encoding: 'binary' };
}

/** The text as the client's bytes (see clientText); a string for UTF-8. */
export function clientBytes(sql: string, encoding: TextEncoding | undefined): string | Buffer {
  if (encoding === undefined || encoding === 'utf8') return sql;
  if (encoding === 'binary') return Buffer.from(sql, 'latin1');
  return iconv.encode(sql, encoding.slice('iconv:'.length));
}
