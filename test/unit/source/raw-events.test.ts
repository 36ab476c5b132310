import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { countedRows, countRowsInstead, rawEvent } from '../../../src/source/raw-events.js';
import { rowsLayout } from '../../../src/binlog/rows-count.js';

// The hooks in zongji's own classes, on events as its packet reader hands them over.
interface ZongjiParser {
  append(buffer: Buffer): void;
  _offset: number;
}
type EventClass = new (parser: ZongjiParser, options: object, zongji: object) => Record<string, unknown> & { rows: unknown[] };
const root = dirname(realpathSync(createRequire(import.meta.url).resolve('@vlasky/zongji')));
const lib = (file: string): Promise<unknown> => import(pathToFileURL(join(root, 'lib', file)).href);
const { Parser } = (await lib('reader.js')) as { Parser: new () => ZongjiParser };
const { WriteRows, UpdateRows } = (await lib('rows_event.js')) as Record<'WriteRows' | 'UpdateRows', EventClass>;

const columns = [
  { name: 'id', charset: null, type: 3, metadata: {} },
  { name: 'v', charset: null, type: 15, metadata: { max_length: 20 } },
];

function zongjiStub(): Record<string, unknown> {
  return {
    tableMap: {
      18: {
        columns,
        columnSchemas: [
          { COLUMN_NAME: 'id', COLUMN_TYPE: 'int' },
          { COLUMN_NAME: 'v', COLUMN_TYPE: 'varbinary(20)' },
        ],
        parentSchema: 'db',
        tableName: 't',
      },
    },
    useChecksum: false,
    connection: { config: {} },
    emit: () => undefined,
  };
}

/** A rows event of table 18 (id INT, v VARBINARY(20)), no checksum: the rows as packed images. */
function rowsEvent(type: number, images: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from([18, 0, 0, 0, 0, 0, 1, 0, 2, 0b11]), ...(type === 24 ? [Buffer.from([0b11])] : []), ...images]);
  const header = Buffer.alloc(19);
  header[4] = type;
  header.writeUInt32LE(19 + body.length, 9);
  return Buffer.concat([header, body]);
}

const row = (id: number, v: string): Buffer => Buffer.concat([Buffer.from([0]), Buffer.from(Uint32Array.of(id).buffer), Buffer.from([v.length]), Buffer.from(v)]);

/** The event read by zongji's class, from its packet as the reader has it (OK byte, header, body). */
function read(Class: EventClass, event: Buffer, zongji: object): Record<string, unknown> & { rows: unknown[] } {
  const parser = new Parser();
  parser.append(Buffer.concat([Buffer.from([0]), event]));
  parser._offset = 1 + 19;
  return new Class(parser, { timestamp: 0, nextPosition: 0, size: event.length - 19, eventType: event[4] }, zongji);
}

describe('zongji hooks: rows events', () => {
  it('keeps the bytes of a rows event, and decodes its rows unless the stream counts them', () => {
    const event = rowsEvent(23, [row(1, 'ab'), row(2, ''), row(3, 'xyz')]);
    const decoded = read(WriteRows, event, zongjiStub());
    expect(Buffer.from(rawEvent(decoded)!)).toEqual(event);
    expect(decoded.rows).toEqual([
      { id: 1, v: Buffer.from('ab') },
      { id: 2, v: Buffer.from('') },
      { id: 3, v: Buffer.from('xyz') },
    ]);
    expect(countedRows(decoded)).toBeUndefined();
  });

  it('counts the rows of the events the stream picks, and decodes the others', () => {
    const zongji = zongjiStub();
    const asked: Array<[number, number]> = [];
    countRowsInstead(zongji, (tableId, bytes) => {
      asked.push([tableId, bytes]);
      return bytes < 60 ? rowsLayout(columns) : undefined;
    });
    const small = rowsEvent(23, [row(1, 'ab'), row(2, '')]);
    const counted = read(WriteRows, small, zongji);
    expect(countedRows(counted)).toBe(2);
    expect(Buffer.from(rawEvent(counted)!)).toEqual(small);
    const large = rowsEvent(23, [row(1, 'ab'), row(2, ''), row(3, 'long enough to be decoded')]);
    const decoded = read(WriteRows, large, zongji);
    expect(countedRows(decoded)).toBeUndefined();
    expect(decoded.rows).toHaveLength(3);
    expect(asked).toEqual([
      [18, small.length],
      [18, large.length],
    ]);
    // Updates: two images a row.
    const update = read(UpdateRows, rowsEvent(24, [row(1, 'a'), row(1, 'b'), row(2, ''), row(2, 'c')]), zongji);
    expect(countedRows(update)).toBe(2);
  });

  it('decodes an event whose rows the layout does not fit', () => {
    const zongji = zongjiStub();
    // (A layout that reads `v` as a 4-byte integer: the rows do not end where the event does.)
    countRowsInstead(zongji, () => rowsLayout([{ type: 3 }, { type: 3 }]));
    const decoded = read(WriteRows, rowsEvent(23, [row(1, 'ab'), row(2, 'cdef')]), zongji);
    expect(countedRows(decoded)).toBeUndefined();
    expect(decoded.rows).toEqual([
      { id: 1, v: Buffer.from('ab') },
      { id: 2, v: Buffer.from('cdef') },
    ]);
  });
});
