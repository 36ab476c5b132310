// Pure: rows events gathered into BINLOG statements, the path on which the
// replica applies row events with its own replica code (as `mariadb-binlog |
// mariadb` does): no SQL text per row, row lookup by key or by the whole
// image as the server's own replica does it, every type exact.
//
// What the server requires, and why the batches are cut as they are:
// - a format description event first, once per connection (the applier
//   sends it; see binlog/event-bytes.ts);
// - the table maps of a statement before its rows events, in the same BINLOG
//   statement: the server forgets its table maps (and closes the tables) at
//   the end of every BINLOG statement, and rows of a table it has no map for
//   are passed over without an error. So every batch starts with the table
//   maps of its first event's statement, and a new statement's maps are
//   added only after the previous statement ended (else the tables the
//   previous one opened would hide the new ones: the batch is cut instead);
// - one statement per round trip: a BINLOG statement cannot share a
//   multi-statement query (the server's answer to it ends the query).
import type { BinlogRows } from '../source/events.js';
import { binlogStatementBytes } from '../binlog/event-bytes.js';

/** Event bytes per BINLOG statement at most: its base64 text is then about a batch (2 MiB, see statement-buffer.ts). */
export const BINLOG_BATCH_BYTES = 1536 * 1024;

/** Rows events on their way in one BINLOG statement, with the table maps they need. */
export interface BinlogBatch {
  /** Table maps and rows events, in the order the server must read them. */
  events: Uint8Array[];
  bytes: number;
  /** The statement of the last rows event, and whether that event ended it. */
  statement: number;
  ended: boolean;
  /** Rows events in the batch. */
  count: number;
}

/** A batch of one rows event, led by its statement's table maps. */
export function binlogBatch(rows: BinlogRows, statementEnd: boolean): BinlogBatch {
  return {
    events: [rows.head, rows.event],
    bytes: rows.head.length + rows.event.length,
    statement: rows.statement,
    ended: statementEnd,
    count: 1,
  };
}

/**
 * Joins a rows event (with its statement's table maps, when the batch does
 * not hold them yet) to `into`, as joinBinlog would join a batch of it
 * alone, without making that batch; false when it must start one.
 */
export function joinRows(into: BinlogBatch, rows: BinlogRows, statementEnd: boolean): boolean {
  const sameStatement = rows.statement === into.statement && !into.ended;
  if (!sameStatement && !into.ended) return false;
  const bytes = rows.event.length + (sameStatement ? 0 : rows.head.length);
  if (into.bytes + bytes > BINLOG_BATCH_BYTES) return false;
  if (!sameStatement) into.events.push(rows.head);
  into.events.push(rows.event);
  into.bytes += bytes;
  into.statement = rows.statement;
  into.ended = statementEnd;
  into.count += 1;
  return true;
}

/**
 * Joins `next` (a batch of one event) to `into` when the server reads them
 * right together and the statement stays within BINLOG_BATCH_BYTES; false
 * when it must go in a statement of its own.
 */
export function joinBinlog(into: BinlogBatch, next: BinlogBatch): boolean {
  const sameStatement = next.statement === into.statement && !into.ended;
  if (!sameStatement && !into.ended) return false;
  // (Events of the same statement need no table maps again: the server still holds them.)
  const from = sameStatement ? 1 : 0;
  const events = next.events;
  let bytes = 0;
  for (let i = from; i < events.length; i++) bytes += events[i]!.length;
  if (into.bytes + bytes > BINLOG_BATCH_BYTES) return false;
  for (let i = from; i < events.length; i++) into.events.push(events[i]!);
  into.bytes += bytes;
  into.statement = next.statement;
  into.ended = next.ended;
  into.count += next.count;
  return true;
}

/** About how many bytes the batch's BINLOG statement takes on the wire. */
export function binlogBatchBytes(batch: BinlogBatch): number {
  return binlogStatementBytes(batch.bytes);
}

/** A server as far as reading another's binlog events goes. */
export interface ServerKind {
  flavor: 'mariadb' | 'mysql';
  version: string;
}

/**
 * Why the replica cannot apply the source's row events itself (undefined when
 * it can): it must be of the same flavour (MariaDB and MySQL binlogs differ
 * in their events) and no older than the source (as for the server's own
 * replica: a newer server reads an older one's events, not the other way).
 */
export function binlogIncompatibility(source: ServerKind, replica: ServerKind): string | undefined {
  if (source.flavor !== replica.flavor) {
    return `the source is ${source.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} and the replica ${replica.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'}, which cannot read the source's row events; row events are applied as SQL statements`;
  }
  const from = versionNumbers(source.version);
  const to = versionNumbers(replica.version);
  if (from && to && (to[0] < from[0] || (to[0] === from[0] && to[1] < from[1]))) {
    return `the replica (${to.join('.')}) is older than the source (${from.join('.')}) and may not read its row events; row events are applied as SQL statements`;
  }
  return undefined;
}

function versionNumbers(version: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
