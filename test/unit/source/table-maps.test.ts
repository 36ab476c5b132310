import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { rememberTableMaps } from '../../../src/source/table-maps.js';

// zongji's TableMap class, read as its stream reads it (lib/sequence/binlog.js, index.js).
interface ZongjiParser {
  append(buffer: Buffer): void;
  _offset: number;
}
type TableMapEvent = Record<string, unknown> & {
  tableId: number;
  schemaName: string;
  tableName: string;
  hasSelfDescribingMetadata(): boolean;
  buildColumnSchemas(): Array<Record<string, unknown>>;
  updateColumnInfo(): void;
};
const root = dirname(realpathSync(createRequire(import.meta.url).resolve('@vlasky/zongji')));
const lib = (file: string): Promise<unknown> => import(pathToFileURL(join(root, 'lib', file)).href);
const { Parser } = (await lib('reader.js')) as { Parser: new () => ZongjiParser };
const { TableMap } = (await lib('binlog_event.js')) as { TableMap: new (parser: ZongjiParser, options: object, zongji: object) => TableMapEvent };

interface Entry {
  columnSchemas: Array<Record<string, unknown>>;
  parentSchema: string;
  tableName: string;
  columns?: Array<Record<string, unknown>>;
}
type Zongji = { tableMap: Record<number, Entry>; useChecksum: boolean } & Record<string, unknown>;

function zongjiStub(checksums: boolean): Zongji {
  return { tableMap: {}, useChecksum: checksums, _skipSchema: () => false };
}

/** A table map event read, and its table entry made, as zongji does with binlog_row_metadata=FULL; or with `schemas` looked up. */
function read(event: Buffer, zongji: Zongji, schemas?: Entry['columnSchemas']): { event: TableMapEvent; entry: Entry } {
  const parser = new Parser();
  parser.append(Buffer.concat([Buffer.from([0]), event]));
  parser._offset = 1 + 19;
  const map = new TableMap(parser, { timestamp: 0, nextPosition: 0, size: event.length - 19, eventType: 19 }, zongji);
  if (schemas) {
    zongji.tableMap[map.tableId] ??= { columnSchemas: schemas, parentSchema: map.schemaName, tableName: map.tableName };
  } else {
    expect(map.hasSelfDescribingMetadata()).toBe(true);
    zongji.tableMap[map.tableId] = { columnSchemas: map.buildColumnSchemas(), parentSchema: map.schemaName, tableName: map.tableName };
  }
  map.updateColumnInfo();
  return { event: map, entry: zongji.tableMap[map.tableId]! };
}

/** The same event, written at another time and position (its header), with its CRC made anew. */
function later(event: Buffer, seconds: number): Buffer {
  const copy = Buffer.from(event);
  copy.writeUInt32LE(copy.readUInt32LE(0) + seconds, 0);
  copy.writeUInt32LE(copy.readUInt32LE(13) + 1000 * seconds, 13);
  return copy;
}

/** The table map events of the rows fixture (a table of every type, ENUM and SET among them), with checksums. */
function fixtureTableMaps(): Buffer[] {
  const data = gunzipSync(readFileSync(join(import.meta.dirname, '..', 'binlog', 'fixtures', 'rows-events.mariadb.binlog.gz')));
  const file = data.subarray(4, 4 + data.readUInt32LE(0));
  const maps: Buffer[] = [];
  for (let at = 0; at < file.length; ) {
    const length = file.readUInt32LE(at + 9);
    if (file[at + 4] === 19) maps.push(file.subarray(at, at + length));
    at += length;
  }
  return maps;
}

const FIELDS = ['tableId', 'schemaName', 'tableName', 'columnCount', 'columnNames', 'signedness', 'primaryKey', 'columnVisibility', 'geometryTypes', '_columnCharsetIds', '_enumSetValues'];
const pick = (event: TableMapEvent): Record<string, unknown> => Object.fromEntries(FIELDS.map((f) => [f, event[f]]));

describe('zongji hooks: table maps', () => {
  const [map] = fixtureTableMaps();

  it('reads a table map like the last one for its table id no more: the same metadata, schemas and columns again', () => {
    const plain = zongjiStub(true);
    const remembering = zongjiStub(true);
    rememberTableMaps(remembering);
    const first = read(map!, remembering);
    const expected = read(map!, plain);
    expect(pick(first.event)).toEqual(pick(expected.event));
    expect(first.entry).toEqual(expected.entry);
    // ENUM and SET columns have their real types.
    expect(first.entry.columns!.map((c) => c.type)).toContain(247);
    expect(first.entry.columns!.map((c) => c.type)).toContain(248);

    const second = read(later(map!, 5), remembering);
    expect(pick(second.event)).toEqual(pick(expected.event));
    expect(second.entry).not.toBe(first.entry);
    expect(second.entry.columnSchemas).toBe(first.entry.columnSchemas);
    expect(second.entry.columns).toBe(first.entry.columns);
    expect(second.entry).toEqual(read(later(map!, 5), plain).entry);
  });

  it('reads a table map whose bytes differ, or of another stream, as zongji does', () => {
    const remembering = zongjiStub(true);
    rememberTableMaps(remembering);
    const first = read(map!, remembering);
    // (Another table name, as long: the table id is the same, the bytes not.)
    const renamed = Buffer.from(map!);
    const at = renamed.indexOf(Buffer.from('every'));
    renamed.write('evarz', at, 'latin1');
    const other = read(renamed, remembering);
    expect(other.event.tableName).toBe('evarz');
    expect(other.entry.columns).not.toBe(first.entry.columns);
    expect(other.entry.columns).toEqual(first.entry.columns);
    // A stream that does not remember: its own columns every time.
    const plain = zongjiStub(true);
    expect(read(map!, plain).entry.columns).not.toBe(read(map!, plain).entry.columns);
  });

  it('makes the columns anew, ENUM and SET types included, when the table was looked up again with other schemas', () => {
    const remembering = zongjiStub(true);
    rememberTableMaps(remembering);
    const full = read(map!, remembering);
    const schemas = full.entry.columnSchemas.map((s) => ({ ...s, COLUMN_NAME: `looked_up_${String(s.COLUMN_NAME)}` }));
    delete remembering.tableMap[full.event.tableId];
    const looked = read(later(map!, 1), remembering, schemas);
    expect(looked.entry.columns).not.toBe(full.entry.columns);
    expect(looked.entry.columns!.map((c) => c.name)).toEqual(schemas.map((s) => s.COLUMN_NAME));
    expect(looked.entry.columns!.map((c) => c.type)).toEqual(full.entry.columns!.map((c) => c.type));
    expect(looked.entry.columns!.map((c) => c.metadata)).toEqual(full.entry.columns!.map((c) => c.metadata));
    // And again with those schemas: the columns made from them.
    expect(read(later(map!, 2), remembering, schemas).entry.columns).toBe(looked.entry.columns);
  });
});
