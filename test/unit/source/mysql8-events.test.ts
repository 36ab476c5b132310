// MySQL 8 events zongji does not decode, as binlog-sync reads them (see
// src/source/mysql8-events.ts): the partial JSON updates of json.binlog.000001
// (MySQL 8.0.22, binlog_row_value_options=PARTIAL_JSON; test/fixtures/binlogs,
// from rust_mysql_common, whose tests decode its PARTIAL_UPDATE_ROWS event
// into JSON diffs), read by the real zongji through the replay transport, and
// heartbeats v2.
import { describe, expect, it } from 'vitest';
import { decodeFile } from '../../support/recorded-binlogs.js';
import { heartbeatV2, vectorsAsBlobs } from '../../../src/source/mysql8-events.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/context.js';
import { crc32 } from '../../../src/binlog/event-bytes.js';
import type { SourceEvent } from '../../../src/source/events.js';
import { isJsonDiffValue, jsonDiffExpression, parseJsonDiffs } from '../../../src/binlog/json-diff.js';

type Rows = Extract<SourceEvent, { type: 'rows' }>;

describe('json.binlog.000001 (MySQL 8.0.22, PARTIAL_JSON)', () => {
  it('decodes its partial update (PARTIAL_UPDATE_ROWS) as JSON diffs, never skipping it', async () => {
    const events = await decodeFile('json.binlog.000001');
    const rows = events.filter((e): e is Rows => e.type === 'rows');
    expect(rows.map((e) => `${e.kind}:${e.rows.length}`)).toEqual(['insert:1', 'insert:1', 'insert:1', 'insert:3', 'update:6', 'update:6']);
    const full = rows[4]!;
    const partial = rows[5]!;
    // The full update (an UPDATE that rewrote the documents): whole documents in both images.
    expect(full.rows[0]!.after![1]).toBe('{"age": 25, "data": "xxxxxxxxxx", "name": "Joe"}');
    // The partial update: binlog_row_image=MINIMAL, its before images the key alone; its after images the
    // document's change and the generated columns, which MySQL computed from the new document.
    expect(partial.present).toEqual([true, false, false, false]);
    expect(partial.presentAfter).toEqual([false, true, true, true]);
    for (const [n, row] of partial.rows.entries()) {
      const [, document, name, age] = row.after!;
      expect(row.before![0]).toBe(n + 1);
      expect(isJsonDiffValue(document)).toBe(true);
      expect(document).toEqual({ jsonDiffs: [{ operation: 'replace', path: '$.age', value: String(age) }] });
      // The same row's document before it (the full update's after image) had one year less, and this name.
      const previous = JSON.parse(full.rows[n]!.after![1] as string) as { age: number; name: string };
      expect([name, age]).toEqual([previous.name, previous.age + 1]);
    }
    // Its position is the XID's that ends it, as any update's.
    const xids = events.filter((e) => e.type === 'xid');
    expect(xids.at(-1)).toMatchObject({ nextPosition: 4011 });
  });
});

describe('parseJsonDiffs and jsonDiffExpression', () => {
  it('reads a change as the file holds it, and makes the replica change the document the same way', () => {
    // The first row's json_col in the partial update (json.binlog.000001 at 3769): REPLACE, '$.age', the binary JSON int16 26.
    const bytes = Buffer.from('0005242e61676503051a00', 'hex');
    const diffs = parseJsonDiffs(bytes, (binary) => String(binary.readInt16LE(1)));
    expect(diffs).toEqual([{ operation: 'replace', path: '$.age', value: '26' }]);
    expect(jsonDiffExpression('`j`', diffs)).toEqual({ sql: "JSON_REPLACE(`j`, ?, JSON_EXTRACT(?, '$'))", params: ['$.age', '26'] });
  });

  it('applies insertions (member and array cell) and removals in the source order', () => {
    const sql = jsonDiffExpression('`j`', [
      { operation: 'insert', path: '$.b', value: '1' },
      { operation: 'insert', path: '$.a[1]', value: '"x"' },
      { operation: 'remove', path: '$.c' },
    ]);
    expect(sql).toEqual({
      sql: "JSON_REMOVE(JSON_ARRAY_INSERT(JSON_INSERT(`j`, ?, JSON_EXTRACT(?, '$')), ?, JSON_EXTRACT(?, '$')), ?)",
      params: ['$.b', '1', '$.a[1]', '"x"', '$.c'],
    });
  });

  it('refuses an operation it does not know, and a change cut short', () => {
    expect(() => parseJsonDiffs(Buffer.from('0305242e616765', 'hex'), String)).toThrow('a partial JSON update with an unknown operation (3)');
    expect(() => parseJsonDiffs(Buffer.from('0009242e', 'hex'), String)).toThrow('a partial JSON update ends early');
  });
});

describe('heartbeatV2', () => {
  it("reads the file and position of MySQL's heartbeat v2 body, and nothing from one it cannot read", () => {
    const name = Buffer.from('binlog.000042');
    // (type 1, length, name), (type 2, length 3, position 70000 as a length-encoded integer), end mark 0.
    const body = Buffer.concat([Buffer.from([1, name.length]), name, Buffer.from([2, 4, 0xfd, 0x70, 0x11, 0x01]), Buffer.from([0])]);
    expect(heartbeatV2(body)).toEqual({ file: 'binlog.000042', position: 70000 });
    expect(heartbeatV2(Buffer.from([1, 200, 0x61]))).toEqual({ file: '', position: 0 });
  });
});

describe('vectorsAsBlobs', () => {
  const fixture = (name: string): Buffer => readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'binlogs', name));
  const eventAt = (bytes: Buffer, at: number): Buffer => Buffer.from(bytes.subarray(at, at + bytes.readUInt32LE(at + 9)));

  it("makes vector.binlog's VECTOR columns (MySQL 9.0.1, dtb.bar: BIGINT, VECTOR(2), TEXT, VECTOR(4)) binary BLOBs, nothing else", () => {
    const bytes = fixture('vector.binlog');
    // (bar's table map at 1170; its column types after the table id and flags (8), `dtb` and `bar` with their lengths and NULs, and the count.)
    const event = eventAt(bytes, 1170);
    const types = 19 + 8 + 5 + 5 + 1;
    expect([...event.subarray(types, types + 4)]).toEqual([8, 242, 252, 242]);
    expect(vectorsAsBlobs(event, true)).toBe(true);
    expect([...event.subarray(types, types + 4)]).toEqual([8, 252, 252, 252]);
    expect(event.readUInt32LE(event.length - 4)).toBe(crc32(event.subarray(0, event.length - 4)));
    // The rest as it was: the metadata (each VECTOR's length size, 4, where a BLOB's is), names, charsets.
    expect(Buffer.compare(event.subarray(types + 4, event.length - 4), eventAt(bytes, 1170).subarray(types + 4, event.length - 4))).toBe(0);
  });

  it('leaves a table map without VECTOR columns as it is', () => {
    // (json.binlog.000001's table map of mysql.t at 1000: INT, JSON, VARCHAR, INT.)
    const event = eventAt(fixture('json.binlog.000001'), 1000);
    const before = Buffer.from(event);
    expect(vectorsAsBlobs(event, true)).toBe(false);
    expect(event).toEqual(before);
  });
});
