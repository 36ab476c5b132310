// Builds a rows event's statements with the values in the text, where the
// binlog is decoded (decode-thread.ts). What then crosses to the apply loop
// is a few strings per event instead of one small object per row and value,
// which cost more to copy between threads (and to collect) than to build.
import { format, type SqlValue } from 'mysql2';
import { EXACT_VALUE_OPTIONS } from '../db/connect.js';
import type { PreparedRows, RowChange } from '../source/events.js';
import { assembleQuery } from '../db/large-query.js';
import { BLOB_MARK } from './binary-literal.js';
import { buildLoadData } from './load-data.js';
import { buildRowChange, type SqlFlavor, type Statement } from './statements.js';
import type { KeyList } from './key-list.js';

export interface BatchingOptions {
  flavor: SqlFlavor;
  /** The replica takes LOAD DATA LOCAL INFILE (local_infile on). */
  loadData: boolean;
}

/** The set-based statements of a rows event: large inserts loaded (when the replica allows it), the rest as SQL. */
export function batchStatements(change: RowChange, options: BatchingOptions): Statement[] {
  if (change.kind === 'insert' && options.loadData) {
    const load = buildLoadData(change.table, change.present, change.rows.map((r) => r.after!));
    if (load) return [load];
  }
  return buildRowChange(change, { setBased: true, flavor: options.flavor });
}

/**
 * Byte values (and texts) from this size travel as escaped literals of their
 * bytes, never doubled (see binary-literal.ts and db/large-query.ts);
 * smaller byte values as hex, which a query of plain text can carry.
 */
export const LARGE_VALUE_BYTES = 16 * 1024;

export { BLOB_MARK };
/** A large byte value's place: its bytes, not converted (`_binary`). */
const BYTES_MARK = { toSqlString: (): string => `_binary${BLOB_MARK}` };
/** A large text's place: its UTF-8 bytes, read in the connection's utf8mb4 as mysql2's quoted string would be. */
const TEXT_MARK = { toSqlString: (): string => BLOB_MARK };

/** A statement text with its values in, the large byte values apart (at their BLOB_MARKs). */
export interface InlineStatement {
  sql: string;
  blobs: Buffer[];
}

/**
 * The statement text with its parameters escaped in, exactly as mysql2 does
 * it on the apply connection (same escaping, same time zone for dates),
 * except large byte values, left at marks (see db/large-query.ts).
 */
export function inlineParts(sql: string, params: readonly unknown[]): InlineStatement {
  if (params.length === 0) return { sql, blobs: [] };
  const blobs: Buffer[] = [];
  // A row without a key is located by a large text twice (as text, and byte
  // for byte): one copy of its bytes serves both places.
  const texts = new Map<string, Buffer>();
  const values = params.map((p) => {
    if (Buffer.isBuffer(p) && p.length >= LARGE_VALUE_BYTES) {
      blobs.push(p);
      return BYTES_MARK;
    }
    // A large text leaves the heap at once (escaped strings and the statement
    // text around it would be three more copies there), as its UTF-8 bytes.
    if (typeof p === 'string' && p.length >= LARGE_VALUE_BYTES) {
      let bytes = texts.get(p);
      if (!bytes) texts.set(p, (bytes = Buffer.from(p, 'utf8')));
      blobs.push(bytes);
      return TEXT_MARK;
    }
    return p;
  });
  return { sql: format(sql, values as SqlValue[], false, EXACT_VALUE_OPTIONS.timezone), blobs };
}

/** The set-based statements of a rows event (as batching applies them), values inline. */
export function prepareRowChange(change: RowChange, options: BatchingOptions): PreparedRows {
  const statements = batchStatements(change, options).map(({ sql, params, expectRows, setBased, load, insertHead, keyList }) => {
    const inline = inlineParts(sql, params);
    // (A statement with large values never joins another: see buffered.)
    const list = keyList && inline.blobs.length === 0 ? inlineKeyList(keyList, params) : undefined;
    return {
      sql: inline.sql,
      ...(inline.blobs.length > 0 ? { blobs: inline.blobs } : {}),
      ...(expectRows !== undefined ? { expectRows } : {}),
      ...(setBased ? { setBased } : {}),
      ...(load ? { load } : {}),
      // (Its values inline: the head, which has none, is unchanged.)
      ...(insertHead ? { insertHead } : {}),
      ...(list ? { keyList: list } : {}),
    };
  });
  return { statements, rows: change.rows.length };
}

/** A KeyList with its values in its texts, as its statement's are (its head and tail have none). */
function inlineKeyList(list: KeyList, params: readonly unknown[]): KeyList {
  const values = list.params ?? params;
  const inline: KeyList = { ...list };
  delete inline.params;
  if (list.opening !== undefined) inline.opening = inlineParts(list.opening, values).sql;
  if (list.following !== undefined) inline.following = inlineParts(list.following, values).sql;
  return inline;
}

/**
 * mysql2's own formatting (the apply connection's queryFormat), except that a
 * text without parameters (a batch of prepared statements, megabytes long)
 * is sent as it is instead of being scanned for placeholders, and that large
 * byte values go as escaped binary literals, in a query of bytes (see
 * db/large-query.ts).
 */
export function formatApplyQuery(sql: string | Buffer, values: unknown): string | Buffer {
  const params = Array.isArray(values) ? values : values == null ? [] : [values];
  if (typeof sql !== 'string' || params.length === 0) return sql;
  const inline = inlineParts(sql, params);
  return inline.blobs.length ? assembleQuery([inline]) : inline.sql;
}
