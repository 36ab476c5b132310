import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countEventRows, countRows, decimalBytes, rowsLayout, type ColumnLayout, type RowsLayout } from '../../../src/binlog/rows-count.js';
import { crc32, hasChecksums } from '../../../src/binlog/event-bytes.js';

// zongji's own event classes decode the same events: the walker must count
// exactly the rows zongji reads.
interface ZongjiParser {
  append(buffer: Buffer): void;
}
type EventClass = new (parser: ZongjiParser, options: object, zongji: object) => Record<string, unknown> & { rows?: unknown[] };
const root = dirname(realpathSync(createRequire(import.meta.url).resolve('@vlasky/zongji')));
const lib = (file: string): Promise<unknown> => import(pathToFileURL(join(root, 'lib', file)).href);
const { Parser } = (await lib('reader.js')) as { Parser: new () => ZongjiParser };
const { TableMap } = (await lib('binlog_event.js')) as { TableMap: EventClass };
const { WriteRows, UpdateRows, DeleteRows } = (await lib('rows_event.js')) as Record<'WriteRows' | 'UpdateRows' | 'DeleteRows', EventClass>;

interface TableEntry {
  columnSchemas: Array<Record<string, unknown>>;
  parentSchema: string;
  tableName: string;
  columns?: Array<ColumnLayout & { name: string; charset: string | null }>;
}

function fakeZongji(checksums: boolean): { tableMap: Record<number, TableEntry>; useChecksum: boolean } & Record<string, unknown> {
  const errors: unknown[] = [];
  return {
    tableMap: {},
    useChecksum: checksums,
    errors,
    connection: { config: { dateStrings: true, timezone: 'Z', jsonStrings: true } },
    emit: (name: string, error: unknown) => errors.push([name, error]),
    _skipSchema: () => false,
    _warnUnsupportedEvent: () => undefined,
  };
}

const ROWS_CLASSES: Record<number, EventClass> = { 23: WriteRows, 24: UpdateRows, 25: DeleteRows, 30: WriteRows, 31: UpdateRows, 32: DeleteRows };

/** A whole event read by zongji's class for it, as its packet reader does (the body after the header). */
function zongjiEvent(Class: EventClass, event: Buffer, zongji: object): Record<string, unknown> & { rows?: unknown[] } {
  const parser = new Parser();
  parser.append(event.subarray(19));
  return new Class(parser, { timestamp: 0, nextPosition: 0, size: event.length - 19, eventType: event[4] }, zongji);
}

/** A table map read as zongji's stream does with binlog_row_metadata=FULL (index.js, TableMap). */
function readTableMap(event: Buffer, zongji: ReturnType<typeof fakeZongji>): TableEntry {
  const map = zongjiEvent(TableMap, event, zongji) as Record<string, unknown> & {
    tableId: number;
    schemaName: string;
    tableName: string;
    buildColumnSchemas(): TableEntry['columnSchemas'];
    updateColumnInfo(): void;
  };
  zongji.tableMap[map.tableId] = { columnSchemas: map.buildColumnSchemas(), parentSchema: map.schemaName, tableName: map.tableName };
  map.updateColumnInfo();
  return zongji.tableMap[map.tableId]!;
}

function* events(file: Buffer): Generator<Buffer> {
  for (let at = 0; at < file.length; ) {
    const length = file.readUInt32LE(at + 9);
    yield file.subarray(at, at + length);
    at += length;
  }
}

describe('rows counted from their bytes', () => {
  it('counts the rows of real MariaDB rows events as zongji decodes them: every type, NULLs, all three row images, with and without checksums', () => {
    const data = gunzipSync(readFileSync(join(import.meta.dirname, 'fixtures', 'rows-events.mariadb.binlog.gz')));
    const seen = { events: 0, rows: 0, multiple: 0, updates: 0, partial: 0, checksums: new Set<boolean>() };
    for (let at = 0; at < data.length; ) {
      const fileLength = data.readUInt32LE(at);
      const file = data.subarray(at + 4, at + 4 + fileLength);
      at += 4 + fileLength;
      let checksums = true;
      let zongji = fakeZongji(checksums);
      for (const event of events(file)) {
        const type = event[4]!;
        if (type === 15) {
          checksums = hasChecksums(event);
          zongji = fakeZongji(checksums);
        } else if (type === 19) {
          readTableMap(event, zongji);
        } else if (ROWS_CLASSES[type]) {
          const tableId = event.readUIntLE(19, 6);
          const layout = rowsLayout(zongji.tableMap[tableId]!.columns!);
          expect(layout).toBeDefined();
          const decoded = zongjiEvent(ROWS_CLASSES[type], event, zongji);
          expect(zongji.errors).toEqual([]);
          expect(countEventRows(event, layout!, checksums)).toBe(decoded.rows!.length);
          seen.events++;
          seen.rows += decoded.rows!.length;
          if (decoded.rows!.length > 1) seen.multiple++;
          if (type === 24) seen.updates++;
          const columns = decoded.numberOfColumns as number;
          const present = decoded.columns_present_bitmap as Buffer;
          if (Array.from({ length: columns }, (_, i) => present[i >> 3]! & (1 << (i & 7))).some((bit) => !bit)) seen.partial++;
          seen.checksums.add(checksums);
        }
      }
    }
    // (What the fixture holds: see fixtures/capture-rows-events.ts.)
    expect(seen.events).toBeGreaterThan(100);
    expect(seen.rows).toBeGreaterThan(200);
    expect(seen.multiple).toBeGreaterThan(10);
    expect(seen.updates).toBeGreaterThan(30);
    expect(seen.partial).toBeGreaterThan(10);
    expect(seen.checksums).toEqual(new Set([true, false]));
  });

  it('knows DECIMAL widths as decimal2bin packs them', () => {
    expect(decimalBytes(1, 0)).toBe(1);
    expect(decimalBytes(10, 2)).toBe(5); // 8 integral digits (4 bytes), 2 fractional (1)
    expect(decimalBytes(18, 9)).toBe(8);
    expect(decimalBytes(65, 30)).toBe(30); // 35 integral (3x4 + 8 digits: 4), 30 fractional (3x4 + 3 digits: 2)
    expect(decimalBytes(7, 7)).toBe(4);
  });

  it('cannot size the classic temporal codes (MariaDB hires columns share them), nor unknown types', () => {
    for (const type of [7, 11, 12, 0, 6, 14, 253, 242, 100]) expect(rowsLayout([{ type: 3 }, { type }])).toBeUndefined();
    expect(rowsLayout([{ type: 15 }])).toBeUndefined(); // (a VARCHAR without its length)
    expect(rowsLayout([{ type: 18, metadata: { decimals: 7 } }])).toBeUndefined();
    expect(rowsLayout([{ type: 252, metadata: { length_size: 5 } }])).toBeUndefined();
    expect(Array.from(rowsLayout([{ type: 3 }, { type: 15, metadata: { max_length: 256 } }, { type: 254, metadata: { max_length: 255 } }])!)).toEqual([4, -2, -1]);
  });

  it('gives up on rows that do not walk to the end of the event', () => {
    const layout = rowsLayout([{ type: 3 }, { type: 15, metadata: { max_length: 20 } }])!;
    const present = Buffer.from([0b11]);
    // Two rows: (1, 'ab'), (NULL, NULL).
    const rows = Buffer.from([0, 1, 0, 0, 0, 2, 0x61, 0x62, 0b11]);
    expect(countRows(rows, 0, rows.length, layout, present)).toBe(2);
    for (let cut = 1; cut < rows.length; cut++) {
      // (Cut at the end of the first row: one row, as far as bytes go.)
      expect(countRows(rows, 0, cut, layout, present)).toBe(cut === 8 ? 1 : undefined);
    }
    expect(countRows(Buffer.concat([rows, Buffer.from([0])]), 0, rows.length + 1, layout, present)).toBeUndefined();
    // No column present: a row of no bytes, which would never end.
    expect(countRows(rows, 0, rows.length, layout, Buffer.from([0]))).toBeUndefined();
    expect(countRows(rows, 0, 0, layout, present)).toBe(0);
  });

  it('counts what zongji decodes, for any table and rows (v1 and v2 events, updates, partial images, NULLs, checksums)', () => {
    fc.assert(
      fc.property(rowsEventArbitrary, ({ columns, event, checksums, rows }) => {
        const zongji = fakeZongji(checksums);
        zongji.tableMap[18] = {
          columns: columns.map((c, i) => ({ ...c, name: `c${i}`, charset: null })),
          columnSchemas: columns.map((c, i) => schemaOf(c, i)),
          parentSchema: 'db',
          tableName: 't',
        };
        const decoded = zongjiEvent(ROWS_CLASSES[event[4]!]!, event, zongji);
        expect(zongji.errors).toEqual([]);
        expect(decoded.rows!.length).toBe(rows);
        expect(countEventRows(event, rowsLayout(columns) as RowsLayout, checksums)).toBe(rows);
      }),
      { numRuns: 400 },
    );
  });
});

// Random tables and rows events, the values packed as the server packs them.

interface ColumnKind {
  column: ColumnLayout;
  /** A packed non-NULL value. */
  value: fc.Arbitrary<Buffer>;
}

const fixed = (type: number, width: number, metadata?: ColumnLayout['metadata']): ColumnKind => ({
  column: { type, ...(metadata ? { metadata } : {}) },
  value: fc.uint8Array({ minLength: width, maxLength: width }).map((b) => Buffer.from(b)),
});

/** A value after its length in `lengthBytes` bytes. */
const prefixed = (lengthBytes: number, max: number, content?: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> =>
  (content ?? fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b))).map((body) => {
    const length = Buffer.alloc(lengthBytes);
    length.writeUIntLE(body.length, 0, lengthBytes);
    return Buffer.concat([length, body]);
  });

const CRC_FREE_POINT = Buffer.concat([Buffer.alloc(4), Buffer.from([1, 1, 0, 0, 0]), Buffer.alloc(16)]); // SRID 0, WKB POINT(0 0)

const columnKinds: fc.Arbitrary<ColumnKind> = fc.oneof(
  fc.constantFrom(
    fixed(1, 1),
    fixed(2, 2),
    fixed(9, 3),
    fixed(3, 4),
    fixed(8, 8),
    fixed(4, 4, { size: 4 }),
    fixed(5, 8, { size: 8 }),
    fixed(13, 1),
    fixed(10, 3),
  ),
  fc.integer({ min: 0, max: 6 }).chain((decimals) =>
    fc.constantFrom(
      fixed(19, 3 + Math.ceil(decimals / 2), { decimals }),
      fixed(17, 4 + Math.ceil(decimals / 2), { decimals }),
      fixed(18, 5 + Math.ceil(decimals / 2), { decimals }),
    ),
  ),
  fc
    .integer({ min: 1, max: 65 })
    .chain((precision) => fc.integer({ min: 0, max: Math.min(30, precision) }).map((scale) => fixed(246, decimalBytes(precision, scale), { precision, decimals: scale }))),
  fc.integer({ min: 1, max: 64 }).map((bits) => fixed(16, Math.ceil(bits / 8), { bits })),
  fc.constantFrom(1, 2).map((size) => fixed(247, size, { size })),
  fc.constantFrom(1, 2, 3, 4, 8).map((size) => fixed(248, size, { size })),
  fc.constantFrom(15, 254).chain((type) =>
    fc.integer({ min: 1, max: 1200 }).map((maxLength) => ({
      column: { type, metadata: { max_length: maxLength } },
      value: prefixed(maxLength > 255 ? 2 : 1, Math.min(maxLength, 300)),
    })),
  ),
  fc.constantFrom(1, 2, 3, 4).map((lengthSize) => ({ column: { type: 252, metadata: { length_size: lengthSize } }, value: prefixed(lengthSize, lengthSize === 1 ? 255 : 600) })),
  fc.constant({ column: { type: 245, metadata: { length_size: 4 } }, value: prefixed(4, 0, fc.constantFrom(Buffer.alloc(0), Buffer.from([4, 0]), Buffer.from([4, 1]))) }),
  fc.constant({ column: { type: 255, metadata: { length_size: 4 } }, value: prefixed(4, 0, fc.constantFrom(Buffer.alloc(0), CRC_FREE_POINT)) }),
);

function schemaOf(column: ColumnLayout, i: number): Record<string, unknown> {
  const type = column.type;
  return {
    COLUMN_NAME: `c${i}`,
    COLLATION_NAME: null,
    CHARACTER_SET_NAME: null,
    COLUMN_COMMENT: '',
    // (Strings read as bytes: no character set to decode them in.)
    COLUMN_TYPE: type === 15 || type === 254 ? 'varbinary(10)' : type === 247 ? 'enum' : type === 248 ? 'set' : 'int',
    ...(type === 247 ? { ENUM_VALUES: ['a', 'b'] } : {}),
    ...(type === 248 ? { SET_VALUES: Array.from({ length: 64 }, (_, k) => `s${k}`) } : {}),
  };
}

/** A packed row image: its null bitmap over the present columns, then their values. */
function image(values: Array<Buffer | null>, present: boolean[]): Buffer {
  const shown = values.filter((_, i) => present[i]);
  const nulls = Buffer.alloc((shown.length + 7) >> 3);
  shown.forEach((v, k) => {
    if (v === null) nulls[k >> 3]! |= 1 << (k & 7);
  });
  return Buffer.concat([nulls, ...shown.filter((v): v is Buffer => v !== null)]);
}

function bitmap(flags: boolean[]): Buffer {
  const out = Buffer.alloc((flags.length + 7) >> 3);
  flags.forEach((f, i) => {
    if (f) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}

const rowsEventArbitrary = fc
  .record({
    kinds: fc.array(columnKinds, { minLength: 1, maxLength: 12 }),
    type: fc.constantFrom(23, 24, 25, 30, 31, 32),
    checksums: fc.boolean(),
    extra: fc.uint8Array({ maxLength: 6 }),
  })
  .chain(({ kinds, type, checksums, extra }) => {
    const update = type === 24 || type === 31;
    const presence = fc.array(fc.boolean(), { minLength: kinds.length, maxLength: kinds.length }).map((p) => (p.some(Boolean) ? p : p.map(() => true)));
    const values = fc.tuple(...kinds.map((k) => fc.option(k.value, { nil: null, freq: 4 })));
    return fc.record({
      present: presence,
      presentAfter: presence,
      images: fc.array(fc.tuple(values, values), { maxLength: 6 }),
    }).map(({ present, presentAfter, images }) => {
      const columns = kinds.map((k) => k.column);
      const v2 = type >= 30;
      const body = Buffer.concat([
        Buffer.from([18, 0, 0, 0, 0, 0, 1, 0]), // table id 18, flags (statement end)
        ...(v2 ? [Buffer.from([2 + extra.length, 0]), Buffer.from(extra)] : []),
        Buffer.from([columns.length]),
        bitmap(present),
        ...(update ? [bitmap(presentAfter)] : []),
        ...images.map((row) => Buffer.concat([image(row[0], present), ...(update ? [image(row[1], presentAfter)] : [])])),
      ]);
      const length = 19 + body.length + (checksums ? 4 : 0);
      const header = Buffer.alloc(19);
      header[4] = type;
      header.writeUInt32LE(length, 9);
      const event = Buffer.concat([header, body, Buffer.alloc(checksums ? 4 : 0)]);
      if (checksums) event.writeUInt32LE(crc32(event.subarray(0, length - 4)), length - 4);
      return { columns, event, checksums, rows: images.length };
    });
  });
