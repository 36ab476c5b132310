// Part of the zongji adapter: a table map event like the one before it for
// its table id is not read again. Every transaction maps its tables anew
// (a sysbench transaction four times), and zongji reads each table map
// whole: its column metadata, its optional metadata (names, character
// sets, keys), and with binlog_row_metadata=FULL it builds column schemas
// and column objects from them; that was a third of the decoding thread's
// work. When a table map's bytes (after the header, which holds its time
// and position, and before the checksum) are those of the last one read
// for its table id, its event takes that one's metadata, and zongji's
// table entry gets the same column schemas and column objects again: the
// ones made from those very bytes (and, when zongji looked the table up
// instead, from the same lookup). Anything else is read as zongji reads it.
//
// zongji calls, on a TableMap event: _readColumnMetadata(parser) then
// _readOptionalMetadata(parser, zongji) from its constructor; then, from
// its 'binlog' handler, buildColumnSchemas() (FULL metadata only) and
// updateColumnInfo(), which sets the table entry's columns and mutates the
// event's column metadata (an ENUM or SET's real type moves to its column
// type). (zongji 0.9 exposes none of this; reached by the files' real
// paths, as zongji-raw.ts does.)
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ColumnInfo, ColumnSchema, TableMapEntry } from '@vlasky/zongji';
import { EVENT_HEADER_BYTES } from '../binlog/event-bytes.js';
import { rawEvent, rawEventHas } from './raw-events.js';

interface ZongjiParser {
  _offset: number;
  readonly _packetEnd: number;
}

/** What a table map event holds once read, besides what its constructor reads before its metadata. */
const METADATA_FIELDS = ['columnsMetadata', 'columnNames', 'signedness', 'primaryKey', 'columnVisibility', 'geometryTypes', '_columnCharsetIds', '_enumSetValues'] as const;

type Metadata = Partial<Record<(typeof METADATA_FIELDS)[number], unknown>>;

interface TableMapEvent extends Metadata {
  tableId: number;
  tableMap: Record<number, TableMapEntry> & { [CACHE]?: Cache };
  [SAME]?: Remembered;
  [BODY]?: Uint8Array;
}

/** A table map read whole, as it was read. */
interface Remembered {
  /** Its bytes after the header, before the checksum (a copy). */
  body: Buffer;
  /** Its metadata once read (the column metadata as updateColumnInfo left it). */
  metadata: Metadata;
  /** Its column metadata as read, before updateColumnInfo changed it (copies: for when the columns are made anew). */
  pristine: Array<Record<string, unknown> | undefined>;
  /** The column schemas its table entry had, and the columns made from them and from it. */
  schemas: ColumnSchema[];
  columns: ColumnInfo[];
}

interface Cache {
  checksums: boolean;
  maps: Map<number, Remembered>;
}

type Method<A extends unknown[], R> = (this: TableMapEvent, ...args: A) => R;

const root = dirname(realpathSync(createRequire(import.meta.url).resolve('@vlasky/zongji')));
const events = (await import(pathToFileURL(join(root, 'lib', 'binlog_event.js')).href)) as {
  TableMap: {
    prototype: {
      _readColumnMetadata: Method<[ZongjiParser], void>;
      _readOptionalMetadata: Method<[ZongjiParser, unknown], void>;
      buildColumnSchemas: Method<[], ColumnSchema[]>;
      updateColumnInfo: Method<[], void>;
    };
  };
};

/** (On zongji's table map object, and on events: the hooks are installed once per process, by whichever copy of this module loads first.) */
const CACHE: unique symbol = Symbol.for('binlog-sync.tableMapCache');
const SAME: unique symbol = Symbol.for('binlog-sync.sameTableMap');
const BODY: unique symbol = Symbol.for('binlog-sync.tableMapBody');
const INSTALLED: unique symbol = Symbol.for('binlog-sync.tableMapHooks');

/** Table ids remembered at most per stream (a new id for each table opened anew: after DDL, FLUSH TABLES...). */
const MAX_REMEMBERED = 10_000;

const installed = globalThis as { [INSTALLED]?: true };
if (!installed[INSTALLED]) {
  installed[INSTALLED] = true;
  const proto = events.TableMap.prototype;
  const { _readColumnMetadata: readColumnMetadata, _readOptionalMetadata: readOptionalMetadata, buildColumnSchemas, updateColumnInfo } = proto;
  for (const method of [readColumnMetadata, readOptionalMetadata, buildColumnSchemas, updateColumnInfo]) {
    if (typeof method !== 'function') throw new Error('internal: zongji reads table maps differently than expected');
  }

  proto._readColumnMetadata = function (parser) {
    const cache = this.tableMap[CACHE];
    if (cache) {
      const checksum = cache.checksums ? 4 : 0;
      const known = cache.maps.get(this.tableId);
      // (Compared in place: no view made of a table map that is the same.)
      if (known && rawEventHas(this, EVENT_HEADER_BYTES, checksum, known.body)) {
        this[SAME] = known;
        this.columnsMetadata = known.metadata.columnsMetadata;
        // (Nothing more to read: the optional metadata is the same too.)
        parser._offset = parser._packetEnd;
        return;
      }
      const raw = rawEvent(this);
      if (raw) this[BODY] = raw.subarray(EVENT_HEADER_BYTES, raw.length - checksum);
    }
    readColumnMetadata.call(this, parser);
  };

  proto._readOptionalMetadata = function (parser, zongji) {
    const known = this[SAME];
    if (!known) return readOptionalMetadata.call(this, parser, zongji);
    for (const field of METADATA_FIELDS) this[field] = known.metadata[field];
  };

  proto.buildColumnSchemas = function () {
    // (The same schemas, column for column, as from the same bytes.)
    return this[SAME]?.schemas ?? buildColumnSchemas.call(this);
  };

  proto.updateColumnInfo = function () {
    const entry = this.tableMap[this.tableId];
    const known = this[SAME];
    if (known && entry && entry.columnSchemas === known.schemas) {
      entry.columns = known.columns;
      return;
    }
    // Columns made anew (the table looked up again, with other schemas): from the column metadata as read.
    if (known) this.columnsMetadata = known.pristine.map(copy);
    const pristine = ((this.columnsMetadata as Remembered['pristine'] | undefined) ?? []).map(copy);
    updateColumnInfo.call(this);
    const cache = this.tableMap[CACHE];
    const body = this[BODY] ?? known?.body;
    const made = this.tableMap[this.tableId];
    if (!cache || !body || !made?.columns) return;
    if (cache.maps.size >= MAX_REMEMBERED && !cache.maps.has(this.tableId)) cache.maps.clear();
    const metadata: Metadata = {};
    for (const field of METADATA_FIELDS) metadata[field] = this[field];
    cache.maps.set(this.tableId, { body: known ? known.body : Buffer.from(body), metadata, pristine, schemas: made.columnSchemas, columns: made.columns });
  };
}

function copy(metadata: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  return metadata && { ...metadata };
}

/**
 * From now on, the stream's table maps like the one before them for their
 * table id are not read again (see the file comment). Call once zongji is
 * ready (it knows then whether events end with a checksum), before the
 * dump's first event.
 */
export function rememberTableMaps(zongji: { tableMap: object; useChecksum?: boolean }): void {
  (zongji.tableMap as { [CACHE]?: Cache })[CACHE] = { checksums: zongji.useChecksum === true, maps: new Map() };
}
