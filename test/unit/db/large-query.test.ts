import mysql from 'mysql2';
import { describe, expect, it } from 'vitest';
import { assembleQuery, partBytes } from '../../../src/db/large-query.js';
import { BLOB_MARK, inlineParts, LARGE_VALUE_BYTES } from '../../../src/sql/prepare.js';

describe('assembleQuery', () => {
  it('joins texts as a string when no statement carries a large value', () => {
    expect(assembleQuery([{ sql: 'SELECT 1' }, { sql: "SELECT 'é'", blobs: [] }])).toBe("SELECT 1;\nSELECT 'é'");
  });

  it('puts large values at their marks as escaped binary literals, text as UTF-8', () => {
    const big = Buffer.alloc(LARGE_VALUE_BYTES, 0x41);
    big[0] = 0x27;
    const inline = inlineParts('INSERT INTO t VALUES (?, ?, ?)', ['é', big, Buffer.from([0xff])]);
    expect(inline.sql).toBe(`INSERT INTO t VALUES ('é', _binary${BLOB_MARK}, X'ff')`);
    expect(inline.blobs).toEqual([big]);
    const query = assembleQuery([{ sql: 'SET @a = 1' }, inline]);
    expect(Buffer.isBuffer(query)).toBe(true);
    const expected = Buffer.concat([
      Buffer.from("SET @a = 1;\nINSERT INTO t VALUES ('é', _binary'\\'", 'utf8'),
      Buffer.alloc(LARGE_VALUE_BYTES - 1, 0x41),
      Buffer.from("', X'ff')", 'utf8'),
    ]);
    expect((query as Buffer).equals(expected)).toBe(true);
    expect(partBytes(inline)).toBe(expected.length - 'SET @a = 1;\n'.length);
  });

  it('takes a large text out as its UTF-8 bytes, quoted as mysql2 quotes it', () => {
    const text = `${'é'.repeat(LARGE_VALUE_BYTES)}'\\\n`;
    const inline = inlineParts('SELECT ?', [text]);
    expect(inline.sql).toBe(`SELECT ${BLOB_MARK}`);
    const query = assembleQuery([inline]) as Buffer;
    expect(query.toString('utf8')).toBe(mysql.format('SELECT ?', [text]));
  });

  it('leaves a statement without large values as it is, a NUL in it included', () => {
    const big = Buffer.alloc(LARGE_VALUE_BYTES, 0x41);
    const query = assembleQuery([{ sql: "INSERT INTO t VALUES ('a\0b')" }, inlineParts('SELECT ?', [big])]) as Buffer;
    expect(query.subarray(0, 28).toString('utf8')).toBe("INSERT INTO t VALUES ('a\0b')".slice(0, 28));
    expect(query.length).toBe(Buffer.byteLength("INSERT INTO t VALUES ('a\0b');\nSELECT _binary''") + LARGE_VALUE_BYTES);
  });

  it('refuses a text whose marks and values disagree', () => {
    expect(() => assembleQuery([{ sql: `SELECT ${BLOB_MARK}`, blobs: [Buffer.alloc(1), Buffer.alloc(1)] }])).toThrow(/internal/);
  });
});
