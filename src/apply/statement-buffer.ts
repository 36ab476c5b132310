// Pure: the statements of the open replica transaction that wait to be sent,
// cut into batches of several statements per round trip. Large batches keep
// the replica busy between answers; no batch outgrows max_allowed_packet.
// Consecutive LOAD DATA statements into the same columns are merged into one
// (each load costs a round trip of its own: the server asks for its file),
// and so are consecutive INSERTs into the same columns, and DELETEs and
// UPDATEs of rows by key whose keys are disjoint, of the source transactions
// of a commit group (one statement instead of one per transaction).
import { LARGE_VALUE_BYTES } from '../sql/prepare.js';
import type { Statement } from '../sql/statements.js';
import type { KeyList } from '../sql/key-list.js';
import { BINLOG_BATCH_BYTES, binlogBatchBytes, joinBinlog, joinRows, type BinlogBatch } from './binlog-rows.js';
import { binlogStatementBytes } from '../binlog/event-bytes.js';
import type { BinlogRows } from '../source/events.js';

/** Where a statement came from, for its errors. */
export interface ApplyContext {
  gtid: string | null;
  file: string | null;
  position: number | null;
}

/** A statement waiting to be sent, with what its errors must name. Built by the applier: never the caller's object. */
export interface Buffered {
  sql: string;
  params: unknown[];
  /** Large byte values, at the BLOB_MARKs of a text built ahead (see prepare.ts). */
  blobs?: readonly Uint8Array[] | undefined;
  /** Bytes of a large row counted as held back from the stream until its batch has answered (see TransactionSender.hold). */
  held?: number;
  /** Rows the statement must touch (fewer: the replica has drifted; the checkpoint: a later epoch owns the stream). */
  expectRows?: number | undefined;
  setBased?: boolean | undefined;
  /** An INSERT of rows tuples after this head (see Statement.insertHead); `joined`: INSERTs of several rows events joined into it. */
  insertHead?: string | undefined;
  joined?: boolean | undefined;
  /** Rows located by key in a list (see Statement.keyList), and once others have joined them, the keys of all (see joinKeyLists). */
  keyList?: KeyList | undefined;
  keys?: Set<string> | undefined;
  context: ApplyContext;
  kind: string;
  table?: string | undefined;
  /** The rows event it belongs to (the first, for loads merged from several). */
  event?: number | undefined;
  /** LOAD DATA: the file's parts (of consecutive events into the same columns), and their size. */
  loads?: Buffer[] | undefined;
  loadBytes?: number | undefined;
  /**
   * Rows events for the replica to apply itself, in one BINLOG statement
   * (`sql` is then empty): alone in its round trip, joined by the rows events
   * that follow while they fit (see binlog-rows.ts).
   */
  binlog?: BinlogBatch | undefined;
}

/**
 * Statements, parameters and bytes per round trip at most: large batches keep
 * the replica busy between answers, and no query outgrows max_allowed_packet
 * (16 MiB by default on MariaDB, 64 MiB on MySQL).
 */
export const BATCH_STATEMENTS = 1000;
export const BATCH_PARAMS = 8_000;
export const BATCH_BYTES = 2 * 1024 * 1024;
/**
 * Rows of one statement of key lists joined, at most: as many as a
 * set-based statement of one event's (row-runs.ts), which keeps far below
 * BATCH_BYTES.
 */
export const JOINED_KEY_ROWS = 1000;
/** A LOAD DATA file at most (one statement, alone in its batch): fewer, larger loads wait less for their file requests. */
export const LOAD_FILE_BYTES = 6 * 1024 * 1024;

const NO_PARAMS: unknown[] = [];

/**
 * A labelled copy of a statement, ready for the buffer (the statement itself
 * is left as it is). Statements built ahead (values inline) have no params.
 */
export function buffered(
  statement: Omit<Statement, 'params'> & { params?: unknown[]; blobs?: readonly Uint8Array[] },
  label: Omit<Buffered, 'sql' | 'params' | 'blobs' | 'expectRows' | 'setBased' | 'loads' | 'loadBytes'>,
): Buffered {
  return {
    sql: statement.sql,
    params: statement.params ?? NO_PARAMS,
    ...(statement.blobs?.length ? { blobs: statement.blobs } : {}),
    expectRows: statement.expectRows,
    setBased: statement.setBased,
    ...(statement.insertHead && !statement.blobs?.length && !statement.load ? { insertHead: statement.insertHead } : {}),
    ...(statement.keyList && !statement.blobs?.length ? { keyList: statement.keyList } : {}),
    ...label,
    ...(statement.load ? { loads: [statement.load], loadBytes: statement.load.length } : {}),
  };
}

export class StatementBuffer {
  private items: Buffered[] = [];
  /** Parameters and bytes waiting. */
  private params = 0;
  private bytes = 0;

  get length(): number {
    return this.items.length;
  }

  /** Joins a rows event to the BINLOG statement being built last, when it may (see joinRows); false to add it as a statement of its own. */
  joinRows(rows: BinlogRows, statementEnd: boolean): boolean {
    const last = this.items[this.items.length - 1];
    if (!last?.binlog) return false;
    const before = last.binlog.bytes;
    if (!joinRows(last.binlog, rows, statementEnd)) return false;
    this.bytes += binlogStatementBytes(last.binlog.bytes) - binlogStatementBytes(before);
    return true;
  }

  add(item: Buffered): void {
    const last = this.items.at(-1);
    if (item.binlog && last?.binlog) {
      const before = estimateBytes(last);
      if (joinBinlog(last.binlog, item.binlog)) {
        this.bytes += estimateBytes(last) - before;
        return;
      }
    }
    if (item.insertHead !== undefined && last?.insertHead === item.insertHead && this.mayJoinInsert(last, item)) {
      // Consecutive INSERTs into the same columns, of one or several source
      // transactions of the group: one statement (a round trip's parsing and
      // a statement's overhead on the replica spared per row). Their unique
      // keys cannot clash: the source took the second after the first.
      this.bytes -= estimateBytes(last);
      last.sql += `, ${item.sql.slice(item.insertHead.length)}`;
      if (item.params.length > 0) last.params = last.params.concat(item.params);
      last.joined = true;
      this.params += item.params.length;
      this.bytes += estimateBytes(last);
      return;
    }
    if (item.keyList !== undefined && last?.keyList !== undefined && this.mayJoinKeys(last, item)) {
      // Consecutive DELETEs or UPDATEs of rows by key of one table, of
      // several source transactions of the group, none touching a row of
      // another's: one statement. Should it change fewer rows than they
      // would have, or fail, the applier applies the transactions again one
      // at a time (batch-sender.ts), and each error names its own.
      this.params -= last.params.length;
      this.bytes -= estimateBytes(last);
      const joined = joinKeyLists(last, item);
      for (const key of item.keyList.keys.split('\n')) last.keys!.add(key);
      last.sql = joined.sql;
      last.params = joined.params;
      last.keyList = joined.keyList;
      last.expectRows = (last.expectRows ?? 0) + (item.expectRows ?? 0);
      last.joined = true;
      this.params += last.params.length;
      this.bytes += estimateBytes(last);
      return;
    }
    if (item.loads) {
      if (last?.loads && last.sql === item.sql && last.loadBytes! + item.loadBytes! <= LOAD_FILE_BYTES) {
        last.loads.push(...item.loads);
        last.loadBytes! += item.loadBytes!;
        last.expectRows! += item.expectRows!;
        this.bytes += item.loadBytes!;
        return;
      }
    }
    this.items.push(item);
    this.params += item.params.length;
    this.bytes += estimateBytes(item);
  }

  /** Whether an INSERT may take another's rows and stay within a batch of its own. */
  private mayJoinInsert(last: Buffered, item: Buffered): boolean {
    return last.params.length + item.params.length <= BATCH_PARAMS && estimateBytes(last) + estimateBytes(item) <= BATCH_BYTES;
  }

  /**
   * Whether a statement of rows by key may take another's rows: the same
   * list (table, key, columns set), none of the same keys, within a batch
   * of its own. A statement joined already never joins one before it (it
   * only would when taken and added again, as it was not the first time).
   */
  private mayJoinKeys(last: Buffered, item: Buffered): boolean {
    const a = last.keyList!;
    const b = item.keyList!;
    if (a.head !== b.head || a.tail !== b.tail || item.joined || a.rows + b.rows > JOINED_KEY_ROWS) return false;
    if (listParams(last).length + listParams(item).length > BATCH_PARAMS || estimateBytes(last) + estimateBytes(item) > BATCH_BYTES) return false;
    last.keys ??= new Set(a.keys.split('\n'));
    return disjointKeys(last.keys, b.keys);
  }

  /**
   * A full batch is waiting: it should go now rather than let the buffer
   * grow (a large transaction would otherwise reach the replica in bursts,
   * the replica idle while the next burst is built).
   */
  get ready(): boolean {
    // A load or a BINLOG statement still growing (see add) is not counted until it is full.
    const last = this.items.at(-1);
    const growing =
      last?.loads && last.loadBytes! < LOAD_FILE_BYTES
        ? last.loadBytes!
        : last?.binlog && last.binlog.bytes < BINLOG_BATCH_BYTES
          ? estimateBytes(last)
          : 0;
    return (
      this.items.length >= BATCH_STATEMENTS ||
      this.params >= BATCH_PARAMS ||
      this.bytes - growing >= BATCH_BYTES ||
      (last?.loadBytes ?? 0) >= LOAD_FILE_BYTES
    );
  }

  /**
   * Takes what waits, cut into batches. With `complete` false (the
   * transaction goes on) only full batches: the last one stays to be joined
   * by what comes next.
   */
  take(complete: boolean): Buffered[][] {
    const cut = [...batches(this.items)];
    this.clear();
    // (A last batch that is full already, such as one large row, goes too: nothing could join it.)
    const last = cut.at(-1);
    if (!complete && cut.length > 1 && last!.reduce((n, b) => n + estimateBytes(b), 0) < BATCH_BYTES) for (const item of cut.pop()!) this.add(item);
    return cut;
  }

  clear(): void {
    this.items = [];
    this.params = 0;
    this.bytes = 0;
  }
}

/** Whether none of a KeyList's keys (newline-separated) is among `seen`. */
export function disjointKeys(seen: ReadonlySet<string>, keys: string): boolean {
  return keys.split('\n').every((key) => !seen.has(key));
}

/** The values of a statement's KeyList, in the list's order. */
function listParams(statement: Pick<Buffered, 'params' | 'keyList'>): unknown[] {
  return statement.keyList!.params ?? statement.params;
}

/** A KeyList statement's rows as they open the list. */
function openingRows(statement: Pick<Buffered, 'sql' | 'keyList'>): string {
  const list = statement.keyList!;
  return list.opening ?? statement.sql.slice(list.head.length, statement.sql.length - list.tail.length);
}

/**
 * One statement of the rows of two statements of the same KeyList (see
 * mayJoinKeys), the first's rows first: its text, values and list. Its
 * values are the list's own (a one-row UPDATE's differ in order from its
 * statement's), and its rows' text is kept whole, for the next to follow.
 */
export function joinKeyLists(
  first: Pick<Buffered, 'sql' | 'params' | 'keyList'>,
  second: Pick<Buffered, 'sql' | 'params' | 'keyList'>,
): { sql: string; params: unknown[]; keyList: KeyList } {
  const a = first.keyList!;
  const b = second.keyList!;
  const between = a.rows === 1 && a.afterOne !== undefined ? a.afterOne : a.separator;
  const opening = openingRows(first) + between + (b.following ?? openingRows(second));
  const pa = listParams(first);
  const pb = listParams(second);
  const keyList: KeyList = { head: a.head, tail: a.tail, opening, separator: a.separator, keys: `${a.keys}\n${b.keys}`, rows: a.rows + b.rows };
  if (a.afterOne !== undefined) keyList.afterOne = a.afterOne;
  return { sql: a.head + opening + a.tail, params: pb.length === 0 ? pa : pa.concat(pb), keyList };
}

export function* batches<T extends Pick<Buffered, 'sql' | 'params' | 'loadBytes' | 'blobs' | 'binlog'>>(statements: T[]): Generator<T[]> {
  let batch: T[] = [];
  let params = 0;
  let bytes = 0;
  for (const statement of statements) {
    const size = estimateBytes(statement);
    // A BINLOG statement goes alone (see binlog-rows.ts).
    const alone = statement.binlog !== undefined || batch[0]?.binlog !== undefined;
    if (batch.length > 0 && (alone || batch.length >= BATCH_STATEMENTS || params + statement.params.length > BATCH_PARAMS || bytes + size > BATCH_BYTES)) {
      yield batch;
      batch = [];
      params = 0;
      bytes = 0;
    }
    batch.push(statement);
    params += statement.params.length;
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

/**
 * About how many bytes a statement takes on the wire: small byte values
 * travel as hex (twice their size), large ones as escaped binary literals
 * (their size and a few escapes). So that a batch of large rows is cut in
 * time, every value counts; one statement larger than a batch goes alone.
 */
export function estimateBytes(statement: Pick<Buffered, 'sql' | 'params' | 'loadBytes' | 'blobs' | 'binlog'>): number {
  if (statement.binlog) return binlogBatchBytes(statement.binlog);
  let bytes = statement.sql.length + (statement.loadBytes ?? 0);
  for (const blob of statement.blobs ?? NO_BLOBS) bytes += blob.length + 10;
  for (const value of statement.params) {
    if (typeof value === 'string') bytes += value.length + 2;
    else if (Buffer.isBuffer(value)) bytes += value.length >= LARGE_VALUE_BYTES ? value.length + 10 : value.length * 2 + 3;
    else bytes += 8;
  }
  return bytes;
}

const NO_BLOBS: readonly Uint8Array[] = [];
