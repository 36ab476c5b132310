// Builds a rows event's statements with the values in the text, where the
// binlog is decoded (decode-thread.ts). What then crosses to the apply loop
// is a few strings per event instead of one small object per row and value,
// which cost more to copy between threads (and to collect) than to build.
import { format, type SqlValue } from 'mysql2';
import { EXACT_VALUE_OPTIONS } from '../db/connect.js';
import type { PreparedRows, RowChange } from '../source/events.js';
import { buildLoadData } from './load-data.js';
import { buildRowChange, type SqlFlavor, type Statement } from './statements.js';

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
 * The statement text with its parameters escaped in, exactly as mysql2 does
 * it on the apply connection (same escaping, same time zone for dates).
 */
export function inlineParams(sql: string, params: unknown[]): string {
  return params.length === 0 ? sql : format(sql, params as SqlValue[], false, EXACT_VALUE_OPTIONS.timezone);
}

/** The set-based statements of a rows event (as batching applies them), values inline. */
export function prepareRowChange(change: RowChange, options: BatchingOptions): PreparedRows {
  const statements = batchStatements(change, options).map(({ sql, params, expectRows, setBased, load }) => ({
    sql: inlineParams(sql, params),
    ...(expectRows !== undefined ? { expectRows } : {}),
    ...(setBased ? { setBased } : {}),
    ...(load ? { load } : {}),
  }));
  return { statements, rows: change.rows.length };
}
