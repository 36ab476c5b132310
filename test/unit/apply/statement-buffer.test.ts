import { describe, expect, it } from 'vitest';
import {
  BATCH_BYTES,
  BATCH_PARAMS,
  BATCH_STATEMENTS,
  LOAD_FILE_BYTES,
  StatementBuffer,
  buffered,
  estimateBytes,
  type Buffered,
} from '../../../src/apply/statement-buffer.js';
import { BINLOG_BATCH_BYTES, binlogBatch, binlogBatchBytes } from '../../../src/apply/binlog-rows.js';

const context = { gtid: '0-1-5', file: 'mysql-bin.000001', position: 400 };

function statement(sql: string, params: unknown[] = [], extra: Partial<Buffered> = {}): Buffered {
  return { ...buffered({ sql, params }, { context, kind: 'insert', table: 'app.t', event: 1 }), ...extra };
}

function load(bytes: number, rows: number, sql = 'INTO TABLE `app`.`t` (a, b)'): Buffered {
  return buffered({ sql, params: [], expectRows: rows, load: Buffer.alloc(bytes, 0x61) }, { context, kind: 'insert', table: 'app.t', event: 1 });
}

describe('buffered', () => {
  it('copies the statement with its label, leaving the statement as it was', () => {
    const original = Object.freeze({ sql: 'DELETE FROM t WHERE id = ?', params: Object.freeze([1]) as unknown[], expectRows: 1 });
    const item = buffered(original, { context, kind: 'delete', table: 'app.t', event: 7 });
    expect(item).toEqual({ sql: original.sql, params: [1], expectRows: 1, setBased: undefined, context, kind: 'delete', table: 'app.t', event: 7 });
    expect(item).not.toBe(original);
  });

  it('gives statements built ahead (no params) an empty parameter list', () => {
    expect(buffered({ sql: 'INSERT INTO t VALUES (1)' }, { context, kind: 'insert' }).params).toEqual([]);
  });
});

describe('StatementBuffer', () => {
  it('is ready once a batch is full by statements, parameters or bytes', () => {
    const byCount = new StatementBuffer();
    for (let i = 0; i < BATCH_STATEMENTS - 1; i++) byCount.add(statement('DO 1'));
    expect(byCount.ready).toBe(false);
    byCount.add(statement('DO 1'));
    expect(byCount.ready).toBe(true);

    const byParams = new StatementBuffer();
    byParams.add(statement('INSERT', new Array(BATCH_PARAMS - 1).fill(1)));
    expect(byParams.ready).toBe(false);
    byParams.add(statement('INSERT', [1]));
    expect(byParams.ready).toBe(true);

    const byBytes = new StatementBuffer();
    byBytes.add(statement('x'.repeat(BATCH_BYTES - 1)));
    expect(byBytes.ready).toBe(false);
    byBytes.add(statement('y'));
    expect(byBytes.ready).toBe(true);
  });

  it('cuts batches within every limit, in order', () => {
    const buffer = new StatementBuffer();
    const all = Array.from({ length: 2500 }, (_, i) => statement(`DO ${i}`, [i, i, i, i]));
    for (const s of all) buffer.add(s);
    const batches = buffer.take(true);
    expect(batches.flat().map((b) => b.sql)).toEqual(all.map((s) => s.sql));
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(BATCH_STATEMENTS);
      expect(batch.reduce((n, b) => n + b.params.length, 0)).toBeLessThanOrEqual(BATCH_PARAMS);
    }
    expect(buffer.length).toBe(0);
  });

  it('keeps the last, unfinished batch while the transaction goes on', () => {
    const buffer = new StatementBuffer();
    for (let i = 0; i < BATCH_STATEMENTS + 10; i++) buffer.add(statement(`DO ${i}`));
    const batches = buffer.take(false);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(BATCH_STATEMENTS);
    expect(buffer.length).toBe(10);
    expect(buffer.take(true).flat().map((b) => b.sql)[0]).toBe(`DO ${BATCH_STATEMENTS}`);
  });

  it('sends a last batch that is full already (one large row): nothing could join it, and it must not wait for more', () => {
    const buffer = new StatementBuffer();
    buffer.add(statement('DO 1'));
    buffer.add(statement('INSERT INTO t VALUES (?)', [], { blobs: [Buffer.alloc(BATCH_BYTES)] }));
    const batches = buffer.take(false);
    expect(batches.map((b) => b.length)).toEqual([1, 1]);
    expect(buffer.length).toBe(0);
  });

  it('joins consecutive INSERTs into the same columns, of several rows events, into one statement, in order', () => {
    const head = 'INSERT INTO `app`.`t` (`a`, `b`) VALUES ';
    const insert = (event: number, tuples: string, params: unknown[], other = head): Buffered =>
      buffered({ sql: other + tuples, params, insertHead: other }, { context: { ...context, gtid: `0-1-${event}` }, kind: 'insert', table: 'app.t', event });
    const buffer = new StatementBuffer();
    buffer.add(insert(1, '(?, ?)', [1, 'a']));
    buffer.add(insert(2, '(?, ?), (?, ?)', [2, 'b', 3, 'c']));
    buffer.add(insert(3, "(4, 'd')", []));
    // Not the same columns, or something between: statements of their own.
    buffer.add(insert(4, '(?)', [5], 'INSERT INTO `app`.`t` (`a`) VALUES '));
    buffer.add(statement('DELETE FROM `app`.`t` WHERE `a` = ?', [1]));
    buffer.add(insert(5, '(?, ?)', [6, 'f']));
    const [batch] = buffer.take(true);
    expect(batch!.map((b) => [b.sql, b.params, b.joined ?? false, b.context.gtid])).toEqual([
      [`${head}(?, ?), (?, ?), (?, ?), (4, 'd')`, [1, 'a', 2, 'b', 3, 'c'], true, '0-1-1'],
      ['INSERT INTO `app`.`t` (`a`) VALUES (?)', [5], false, '0-1-4'],
      ['DELETE FROM `app`.`t` WHERE `a` = ?', [1], false, '0-1-5'],
      [`${head}(?, ?)`, [6, 'f'], false, '0-1-5'],
    ]);
    // An INSERT with large values (built ahead, the values at marks) or a LOAD DATA never joins.
    expect(buffered({ sql: `${head}(1, 2)`, params: [], insertHead: head, blobs: [Buffer.alloc(1)] }, { context, kind: 'insert' }).insertHead).toBeUndefined();
  });

  it('keeps a joined INSERT within a batch', () => {
    const head = 'INSERT INTO `app`.`t` (`a`) VALUES ';
    const buffer = new StatementBuffer();
    const values = Array.from({ length: BATCH_PARAMS }, (_, i) => i);
    buffer.add(buffered({ sql: head + values.map(() => '(?)').join(', '), params: values, insertHead: head }, { context, kind: 'insert', event: 1 }));
    buffer.add(buffered({ sql: `${head}(?)`, params: [1], insertHead: head }, { context, kind: 'insert', event: 2 }));
    expect(buffer.length).toBe(2);
  });

  it('merges consecutive loads into the same columns, up to one file', () => {
    const buffer = new StatementBuffer();
    buffer.add(load(1000, 10));
    buffer.add(load(2000, 20));
    buffer.add(load(10, 1, 'INTO TABLE `app`.`other` (a)')); // other columns: a file of its own
    const [batch] = buffer.take(true);
    expect(batch!.map((b) => [b.expectRows, b.loadBytes, b.loads?.length])).toEqual([
      [30, 3000, 2],
      [1, 10, 1],
    ]);
  });

  it('starts a new file past the file size, and counts a growing file only once full', () => {
    const buffer = new StatementBuffer();
    buffer.add(load(LOAD_FILE_BYTES - 100, 1));
    expect(buffer.ready).toBe(false); // the file may still grow
    buffer.add(load(200, 1)); // would overflow: its own file
    expect(buffer.length).toBe(2);
    expect(buffer.ready).toBe(true);
    const batches = buffer.take(true);
    expect(batches.map((b) => b.length)).toEqual([1, 1]);
  });

  it('estimates escaped bytes at twice their size', () => {
    expect(estimateBytes({ sql: 'abc', params: [Buffer.alloc(10)] })).toBe(3 + 23);
    expect(estimateBytes({ sql: 'abc', params: ['héllo', 5] })).toBe(3 + 7 + 8);
  });
});

describe('StatementBuffer with BINLOG statements', () => {
  const rowsEvent = (statement: number, bytes: number, ended: boolean, event = 1): Buffered => ({
    sql: '',
    params: [],
    binlog: binlogBatch({ head: Buffer.alloc(50, 1), event: Buffer.alloc(bytes, 2), statement, rows: 1 }, ended),
    context,
    kind: 'insert',
    table: 'app.t',
    event,
  });

  it('joins rows events into one BINLOG statement, sent alone in its round trip', () => {
    const buffer = new StatementBuffer();
    buffer.add(statement('SET SESSION foreign_key_checks = 1'));
    buffer.add(rowsEvent(1, 1000, false, 1));
    buffer.add(rowsEvent(1, 1000, true, 2));
    buffer.add(rowsEvent(2, 1000, true, 3));
    buffer.add(statement('UPDATE binlog_sync.positions SET binlog_position = ?', [9]));
    const batches = buffer.take(true);
    expect(batches.map((b) => b.length)).toEqual([1, 1, 1]);
    const binlog = batches[1]![0]!.binlog!;
    expect(binlog.count).toBe(3);
    // Table maps once per statement: head, rows, rows, head, rows.
    expect(binlog.events.map((e) => e.length)).toEqual([50, 1000, 1000, 50, 1000]);
    expect(estimateBytes(batches[1]![0]!)).toBe(binlogBatchBytes(binlog));
  });

  it('keeps a BINLOG statement that is still growing until it is full, then sends it', () => {
    const buffer = new StatementBuffer();
    buffer.add(rowsEvent(1, 4096, true));
    expect(buffer.ready).toBe(false);
    let statement = 2;
    while (!buffer.ready) buffer.add(rowsEvent(statement++, 64 * 1024, true));
    const batches = buffer.take(false);
    expect(batches.length).toBeGreaterThanOrEqual(1);
    for (const [item] of batches) expect(item!.binlog!.bytes).toBeLessThanOrEqual(BINLOG_BATCH_BYTES);
  });
});
