// The only module that runs @vlasky/zongji (others read its types and
// internals: table-definitions.ts, raw-events.ts, table-maps.ts): connects to
// the source as a replica, streams the binlog from a position, and turns
// zongji's events into our typed SourceEvents (events.ts); the commonest
// events are read straight from their packets instead (takeEvent).
import ZongJi, {
  type AnyBinlogEvent,
  type BinlogEventByTypeName,
  type RowsEvent,
  type TableMapEntry,
} from '@vlasky/zongji';
import { describeEndpoint, type Endpoint } from '../config/connection-url.js';
import { BinlogPurgedError, BinlogSyncError, ConnectionError } from '../errors.js';
import { failedLookup, unsupportedFormat } from './unsupported-formats.js';
import { effectiveOptions, connectionFailure } from '../db/connect.js';
import type { DriverError } from '../db/server-errors.js';
import type { Logger } from '../log/logger.js';
import { xidLiteral, type BinlogRows, type RowsInPlace, type RowsKind, type SourceEvent, type TableDef } from './events.js';
import { noForeignKeyChecks, parseStatusVars } from './status-vars.js';
import { rawQuery, rawStatusVars } from './zongji-raw.js';
import { clientText } from '../sql/client-text.js';
import { DumpReader, prepareDumpConnection } from './dump-connection.js';
import { countedRows, countRowsInstead, keepFormatDescriptions, lastFormatDescription, rawEvent } from './raw-events.js';
import { decodeMysql8Events, isPartialUpdate, readingPartialUpdate } from './mysql8-events.js';
import { EVENT_HEADER_BYTES, TABLE_MAP_EVENT as TABLE_MAP_EVENT_TYPE, hasChecksums, normaliseFormatDescription, renameTableMapDatabase } from '../binlog/event-bytes.js';
import { countRows } from '../binlog/rows-count.js';
import { rememberTableMaps } from './table-maps.js';
import { MARIADB_GTID_EVENT, XID_EVENT, allSetAt, eventTableId, headerNextPosition, headerTimestampMs, mariadbGtid, rowsHead } from '../binlog/event-head.js';
import type { Collations } from './collations.js';
import { decodedRows } from './row-values.js';
import { allOnes, bitmapToFlags, visible } from './present-columns.js';
import { TableDefinitions, type KnownTable } from './table-definitions.js';

export interface StreamStart {
  file?: string | null;
  position?: number | null;
  /** MariaDB GTID position or MySQL GTID set to resume after; wins over file/position. */
  gtid?: string | null;
}

export interface BinlogSourceOptions {
  endpoint: Endpoint;
  serverId: number;
  start: StreamStart;
  logger: Logger;
  /** Called synchronously for every event, in binlog order. */
  onEvent: (event: SourceEvent) => void;
  /** A stream error (connection lost, server error); the stream is dead afterwards. */
  onError: (error: Error) => void;
  /** Heartbeat period asked of the source (default 1 s), so an idle stream still shows it is alive. */
  heartbeatMs?: number;
  /** A stream silent this long (no event, no heartbeat) is taken as broken (default 5 heartbeats). */
  silenceMs?: number;
  /**
   * The source's collations by id (see collations.ts): the table map gives
   * text columns' collations as ids, and zongji would guess the character
   * set of those it does not know. Also what masking needs (mask/methods.ts).
   */
  collations?: Collations;
  /**
   * Which tables' rows go to the replica as binlog events (the replica
   * applies them itself, see apply/binlog-rows.ts), and under which name;
   * null for a table whose rows go decoded. Absent: every table's go decoded.
   */
  binlogRowTarget?: (table: TableDef) => TableDef | null;
  /**
   * Offered first each rows event that goes as its bytes with every column
   * in its images (see RowsInPlace): true when it took it, and no event
   * object is made for it. (The decoding thread packs such events straight
   * from their packets: an object each was a fifth of its work.)
   */
  onRowsInPlace?: (rows: RowsInPlace) => boolean;
  /**
   * Binlog rows events (and their table maps) as views of their packets,
   * not copies: for a consumer that copies them before it returns from
   * onEvent (the decoding thread, see decode-thread.ts).
   */
  binlogEventViews?: boolean;
  /** Where the binlog comes from instead of a connection to `endpoint`: files on disk (`replay`, see file-transport.ts). */
  transport?: BinlogTransport;
}

/** Gives zongji the connections it reads the binlog through, before it starts. */
export interface BinlogTransport {
  attach(zongji: object): void;
  /**
   * The relay stream's sequence of the message whose transaction an event
   * ending at `file`:`nextPosition` ends, asked while zongji decodes that
   * message (see stream-transport.ts); undefined for any other event, and
   * absent for a transport that is not a stream.
   */
  streamSeqAt?(file: string, nextPosition: number): number | undefined;
}

/**
 * A rows event from this size goes decoded all the same: the SQL path holds
 * a large row in memory once per place (docs/replication.md, large values),
 * where its BINLOG statement would be the event and its base64 text twice over.
 */
export const BINLOG_ROWS_EVENT_BYTES = 8 * 1024 * 1024;

/** The table maps of the source statement being read, of tables whose rows go as events. */
interface StatementMaps {
  number: number;
  maps: Map<number, Uint8Array>;
  /** The maps joined, once its first rows event needs them. */
  head?: Uint8Array | undefined;
}

// Rows event flags (rows_event.h).
const NO_FOREIGN_KEY_CHECKS_F = 1 << 1;
/** Rows event flag: the last rows event of its statement. */
const STMT_END_F = 1 << 0;

export class BinlogSource extends DumpReader {
  private file: string;
  private readonly tables: TableDefinitions;
  /** The binlog's events end with a CRC32 (its format description says so). */
  private checksums = true;
  private statementNumber = 0;
  /** What onRowsInPlace is given, filled anew for each event. */
  private readonly inPlace: RowsInPlace = {
    kind: 'insert',
    table: { database: '', table: '', columns: [], primaryKey: [] },
    bytes: 0,
    noForeignKeyChecks: false,
    statementEnd: false,
    file: '',
    nextPosition: 0,
    timestamp: 0,
    head: new Uint8Array(0),
    statement: 0,
    rows: 0,
    packet: Buffer.alloc(0),
    start: 0,
    end: 0,
  };
  private statement: StatementMaps = { number: 0, maps: new Map() };
  /** The transport's, when it is a relay stream (see BinlogTransport.streamSeqAt). */
  private readonly streamSeqAt: ((file: string, nextPosition: number) => number | undefined) | undefined;

  constructor(private readonly options: BinlogSourceOptions) {
    super(options);
    const transport = options.transport;
    this.streamSeqAt = transport?.streamSeqAt ? (file, nextPosition) => transport.streamSeqAt!(file, nextPosition) : undefined;
    this.file = options.start.file ?? '';
    this.tables = new TableDefinitions(options.collations);
  }

  /** Connects and starts streaming; resolves when the dump has started. */
  async start(): Promise<void> {
    const { endpoint, serverId, start, logger } = this.options;
    // The same TLS as the ordinary connections (PREFERRED already settled by them).
    const zongji = new ZongJi(this.options.transport ? {} : { ...effectiveOptions(endpoint, 'source'), jsonStrings: true });
    this.options.transport?.attach(zongji);
    this.zongji = zongji;
    await new Promise<void>((resolve, reject) => {
      let ready = false;
      zongji.on('ready', () => {
        rememberTableMaps(zongji);
        if (this.options.binlogRowTarget) {
          // The commonest events of rows that go as they are never reach zongji (see takeEvent).
          keepFormatDescriptions(zongji, (bytes, at, end) => this.takeEvent(bytes, at, end));
          // Rows events that go as they are: their rows counted, never decoded.
          countRowsInstead(zongji, (tableId, eventBytes) => this.binlogRoute(tableId, eventBytes)?.layout);
        }
        // MySQL 8's compressed transactions, partial JSON updates and heartbeats v2 (after the hook above: see mysql8-events.ts).
        decodeMysql8Events(zongji, {
          onHeartbeat: (file, position) => {
            this.lastEventAt = Date.now();
            this.emit({ type: 'heartbeat', file: file || this.file, position });
          },
        });
        ready = true;
        resolve();
      });
      zongji.on('error', (error: Error) => {
        const failure = streamFailure(error, endpoint, start);
        if (!ready) reject(failure);
        else this.fail(failure);
      });
      zongji.on('binlog', (event: AnyBinlogEvent) => {
        this.lastEventAt = Date.now();
        try {
          this.handle(event);
        } catch (error) {
          this.fail(error as Error);
        }
      });
      const useGtid = Boolean(start.gtid);
      logger.debug({ start, serverId, useGtid }, 'starting binlog dump');
      zongji.start({
        serverId,
        ...(useGtid ? { gtidSet: start.gtid! } : { filename: start.file!, position: start.position! }),

        includeEvents: [
          'rotate',
          'format',
          'query',
          'xid',
          'tablemap',
          'writerows',
          'updaterows',
          'deleterows',
          'gtid',
          'mariadbgtid',
          'heartbeat',
          'transactionpayload',
          'partialupdaterows',
          'xaprepare',
        ],
      });
      prepareDumpConnection(zongji.connection, this.options.heartbeatMs);
    });
    this.startWatchdog(this.options.silenceMs ?? 5 * (this.options.heartbeatMs ?? 1000));
  }

  private emit(event: SourceEvent): void {
    // (A relay stream's: the end of each message's transaction carries the message's sequence.)
    if (this.streamSeqAt !== undefined && (event.type === 'xid' || event.type === 'query' || event.type === 'xa-prepare')) {
      const seq = this.streamSeqAt(event.file, event.nextPosition);
      if (seq !== undefined) event.streamSeq = seq;
    }
    this.options.onEvent(event);
  }

  /**
   * Takes an event straight from its packet's bytes, where zongji's object
   * would only be read for a few fields (a third of the decoding thread's
   * work on a stream of small transactions): a MariaDB GTID event (not XA),
   * an XID event, a table map like the last one zongji read for its table
   * id (zongji's table entry stays that one's), and a rows event that goes
   * as it is (its rows counted). Anything else, or anything unexpected, is
   * left to zongji (false). What is emitted is what handle() would emit.
   */
  private takeEvent(bytes: Buffer, at: number, end: number): boolean {
    if (readingPartialUpdate()) return false;
    const type = bytes[at + 4]!;
    const checksum = this.checksums ? 4 : 0;
    if (type === TABLE_MAP_EVENT_TYPE) return this.takeTableMap(bytes, at, end, checksum);
    if (type === XID_EVENT || type === MARIADB_GTID_EVENT) {
      const gtid = type === MARIADB_GTID_EVENT ? mariadbGtid(bytes, at, end - checksum) : undefined;
      if (type === MARIADB_GTID_EVENT && !gtid) return false;
      this.lastEventAt = Date.now();
      if (this.statement.maps.size > 0) this.endStatement();
      const nextPosition = headerNextPosition(bytes, at);
      const timestamp = headerTimestampMs(bytes, at);
      if (gtid) this.emit({ type: 'gtid', gtid: gtid.gtid, impliesBegin: gtid.impliesBegin, file: this.file, nextPosition, timestamp });
      else this.emit({ type: 'xid', file: this.file, nextPosition, timestamp });
      return true;
    }
    return this.takeRows(bytes, at, end, checksum);
  }

  /** A table map whose bytes are those zongji last read for its table id (see takeEvent). */
  private takeTableMap(bytes: Buffer, at: number, end: number, checksum: number): boolean {
    const tableId = eventTableId(bytes, at);
    const known = this.tables.get(tableId);
    const entry = (this.zongji as { tableMap?: Record<number, TableMapEntry> } | undefined)?.tableMap?.[tableId];
    if (!known || !entry || entry.columns !== known.columns) return false;
    const body = known.body;
    const from = at + EVENT_HEADER_BYTES;
    if (end - checksum - from !== body.length || body.length === 0 || bytes.compare(body, 0, body.length, from, end - checksum) !== 0) return false;
    this.lastEventAt = Date.now();
    const target = this.binlogTarget(known);
    if (!target) return true; // (zongji's entry for it is as the last one left it)
    if (this.statement.head) this.endStatement();
    const raw = new Uint8Array(bytes.buffer, bytes.byteOffset + at, end - at);
    this.statement.maps.set(tableId, target.database === known.table.database ? raw : renameTableMapDatabase(raw, target.database, this.checksums));
    return true;
  }

  /** A rows event that goes as it is, for the replica to apply (see binlogRoute), its rows counted. */
  private takeRows(bytes: Buffer, at: number, end: number, checksum: number): boolean {
    const head = rowsHead(bytes, at, end - checksum);
    if (!head) return false;
    const known = this.binlogRoute(head.tableId, end - at);
    const layout = known?.layout;
    if (!known || !layout || layout.length !== head.columns) return false;
    // (Every column in its images, as with FULL row images: no views of the bitmaps needed.)
    const full = allSetAt(bytes, head.presentAt, head.columns) && (head.presentAfterAt < 0 || allSetAt(bytes, head.presentAfterAt, head.columns));
    const bitmap = (from: number): Uint8Array => (full ? allOnes(head.bitmapBytes) : bytes.subarray(from, from + head.bitmapBytes));
    const present = bitmap(head.presentAt);
    const presentAfter = head.presentAfterAt < 0 ? undefined : bitmap(head.presentAfterAt);
    const rows = countRows(bytes, head.rowsStart, end - checksum, layout, present, presentAfter);
    if (rows === undefined) return false;
    this.lastEventAt = Date.now();
    const { table } = known;
    // (A table with hidden columns goes as an object: its `present` leaves them out, see visible.)
    if (this.options.onRowsInPlace && full && !table.columns[table.columns.length - 1]?.hidden) {
      const place = this.inPlace;
      place.kind = head.kind;
      place.table = table;
      place.bytes = end - at - EVENT_HEADER_BYTES - checksum;
      place.noForeignKeyChecks = (head.flags & NO_FOREIGN_KEY_CHECKS_F) !== 0;
      place.statementEnd = (head.flags & STMT_END_F) !== 0;
      place.file = this.file;
      place.nextPosition = headerNextPosition(bytes, at);
      place.timestamp = headerTimestampMs(bytes, at);
      place.head = this.statementHead();
      place.statement = this.statement.number;
      place.rows = rows;
      place.packet = bytes;
      place.start = at;
      place.end = end;
      if (this.options.onRowsInPlace(place)) {
        if (place.statementEnd) this.endStatement();
        return true;
      }
    }
    const raw = new Uint8Array(bytes.buffer, bytes.byteOffset + at, end - at);
    const rowsEvent: Extract<SourceEvent, { type: 'rows' }> = {
      type: 'rows',
      bytes: end - at - EVENT_HEADER_BYTES - checksum,
      kind: head.kind,
      table,
      present: visible(table, bitmapToFlags(present, table.columns.length)),
      rows: [],
      noForeignKeyChecks: (head.flags & NO_FOREIGN_KEY_CHECKS_F) !== 0,
      statementEnd: (head.flags & STMT_END_F) !== 0,
      file: this.file,
      nextPosition: headerNextPosition(bytes, at),
      timestamp: headerTimestampMs(bytes, at),
    };
    if (presentAfter) rowsEvent.presentAfter = visible(table, bitmapToFlags(presentAfter, table.columns.length));
    rowsEvent.binlog = this.statementRows(raw, rows);
    if (rowsEvent.statementEnd) this.endStatement();
    this.emit(rowsEvent);
    return true;
  }

  private header(event: { nextPosition: number; timestamp: number }): { file: string; nextPosition: number; timestamp: number } {
    return { file: this.file, nextPosition: event.nextPosition, timestamp: event.timestamp };
  }

  private handle(event: AnyBinlogEvent): void {
    // One type lookup per event (zongji derives it from the class name each time).
    const type = event.getTypeName();
    // A statement's table maps and rows events follow one another: anything else ends it.
    if (type !== 'TableMap' && type !== 'WriteRows' && type !== 'UpdateRows' && type !== 'DeleteRows' && this.statement.maps.size > 0) this.endStatement();
    switch (type) {
      case 'Format': {
        const raw = this.zongji ? lastFormatDescription(this.zongji) : undefined;
        if (!raw) return;
        this.checksums = hasChecksums(raw);
        this.emit({ type: 'format', event: normaliseFormatDescription(raw) });
        return;
      }
      case 'Rotate': {
        const e = event as BinlogEventByTypeName<'Rotate'>;
        this.file = e.binlogName;
        this.emit({ type: 'rotate', file: e.binlogName, position: e.position });
        return;
      }
      case 'MariadbGtid': {
        const e = event as BinlogEventByTypeName<'MariadbGtid'>;
        const xa = e.preparedXa || e.completedXa ? { phase: e.preparedXa ? 'prepare' : 'complete', xid: xidLiteral(e.xidGtrid!, e.xidBqual!, e.xidFormatId!) } as const : undefined;
        this.emit({
          type: 'gtid',
          gtid: e.gtid,
          impliesBegin: !e.standalone,
          ...(xa ? { xa } : {}),
          file: this.file,
          nextPosition: e.nextPosition,
          timestamp: e.timestamp,
        });
        return;
      }
      case 'Gtid': {
        const e = event as BinlogEventByTypeName<'Gtid'>;
        this.emit({ type: 'gtid', gtid: e.gtid, impliesBegin: false, file: this.file, nextPosition: e.nextPosition, timestamp: e.timestamp });
        return;
      }
      case 'Query': {
        const e = event as BinlogEventByTypeName<'Query'>;
        const status = parseStatusVars(rawStatusVars(e) ?? e.statusVars);
        const noFk = noForeignKeyChecks(status);
        // The text as the source session wrote it (character_set_client), not as UTF-8.
        const clientCharset = status.charset ? this.options.collations?.[status.charset.client]?.charset : undefined;
        const text = clientText(e.query, rawQuery(e), clientCharset);
        this.emit({
          type: 'query',
          sql: text.sql,
          ...(text.encoding ? { encoding: text.encoding } : {}),
          ...(clientCharset ? { clientCharset } : {}),
          database: e.schema,
          ...(status.sqlMode !== undefined ? { sqlMode: status.sqlMode } : {}),
          ...(noFk !== undefined ? { noForeignKeyChecks: noFk } : {}),
          ...(status.timeZone !== undefined ? { timeZone: status.timeZone } : {}),
          ...(status.microseconds !== undefined ? { microseconds: status.microseconds } : {}),
          ...(status.charset !== undefined ? { charset: status.charset } : {}),
          ...(status.invoker !== undefined ? { invoker: status.invoker } : {}),
          ...((e as { errorCode?: number }).errorCode ? { errorCode: (e as { errorCode?: number }).errorCode } : {}),
          ...this.header(e),
        });
        return;
      }
      case 'Xid':
        this.emit({ type: 'xid', file: this.file, nextPosition: event.nextPosition, timestamp: event.timestamp });
        return;
      case 'XaPrepare': {
        const e = event as BinlogEventByTypeName<'XaPrepare'>;
        this.emit({ type: 'xa-prepare', xid: xidLiteral(e.xidGtrid, e.xidBqual, e.xidFormatId), onePhase: e.onePhase, ...this.header(e) });
        return;
      }
      case 'TableMap': {
        const e = event as BinlogEventByTypeName<'TableMap'>;
        this.tables.remember(e, (this.zongji as { useChecksum?: boolean } | undefined)?.useChecksum === true);
        this.keepTableMap(e);
        return;
      }
      case 'WriteRows':
        this.emitRows('insert', event as BinlogEventByTypeName<'WriteRows'>);
        return;
      case 'UpdateRows':
        this.emitRows('update', event as BinlogEventByTypeName<'UpdateRows'>);
        return;
      case 'DeleteRows':
        this.emitRows('delete', event as BinlogEventByTypeName<'DeleteRows'>);
        return;
      case 'Heartbeat': {
        const e = event as BinlogEventByTypeName<'Heartbeat'>;
        this.emit({ type: 'heartbeat', file: e.binlogName, position: Number(e.position ?? e.nextPosition) });
        return;
      }
      default:
        // Compressed transactions, partial JSON updates, XA: we cannot apply them
        // faithfully, so the replicator refuses rather than skipping them.
        this.emit({ type: 'unsupported', what: type, ...this.header(event) });
    }
  }

  private emitRows(kind: RowsKind, event: RowsEvent & { rows: unknown[] }): void {
    const known = this.tables.get(event.tableId);
    if (!known) {
      this.emit({ type: 'unsupported', what: `rows event for unknown table id ${event.tableId}`, ...this.header(event) });
      return;
    }
    const { table } = known;
    const binlog = this.binlogRows(event);
    const internals = event as unknown as { columns_present_bitmap?: Buffer; columns_present_bitmap2?: Buffer };
    const present = visible(table, bitmapToFlags(internals.columns_present_bitmap, table.columns.length));
    const presentAfter = kind === 'update' ? visible(table, bitmapToFlags(internals.columns_present_bitmap2, table.columns.length)) : undefined;
    const rows = binlog ? [] : decodedRows(kind, table, event.rows, present, presentAfter);
    const rowsEvent: Extract<SourceEvent, { type: 'rows' }> = {
      type: 'rows',
      bytes: (event as unknown as { size?: number }).size ?? 0,
      kind,
      table,
      present,
      rows,
      noForeignKeyChecks: (event.flags & NO_FOREIGN_KEY_CHECKS_F) !== 0,
      statementEnd: (event.flags & STMT_END_F) !== 0,
      file: this.file,
      nextPosition: event.nextPosition,
      timestamp: event.timestamp,
    };
    if (presentAfter) rowsEvent.presentAfter = presentAfter;
    if (binlog) rowsEvent.binlog = binlog;
    // Its statement ends with it: the next rows event maps its tables anew.
    if (rowsEvent.statementEnd) this.endStatement();
    this.emit(rowsEvent);
  }

  /**
   * The table whose rows events go as they are, for the replica to apply
   * itself, when this one does: its table's rows go so, its table map was
   * kept, and it is not a large row (BINLOG_ROWS_EVENT_BYTES). Asked before
   * zongji reads its rows (the event's rows are then only counted) and
   * again once it is read, with the same answer: nothing between changes
   * what it depends on.
   */
  private binlogRoute(tableId: number, eventBytes: number): KnownTable | undefined {
    if (eventBytes >= BINLOG_ROWS_EVENT_BYTES || !this.statement.maps.has(tableId)) return undefined;
    const known = this.tables.get(tableId);
    return known && this.binlogTarget(known) ? known : undefined;
  }

  /** Where the table's rows go as binlog events (named as on the replica), or null when they go decoded. */
  private binlogTarget(known: KnownTable): TableDef | null {
    if (known.binlogTarget === undefined) known.binlogTarget = this.options.binlogRowTarget?.(known.table) ?? null;
    return known.binlogTarget;
  }

  /** Keeps a table map's bytes while its statement is read, when its table's rows go as events. */
  private keepTableMap(event: BinlogEventByTypeName<'TableMap'>): void {
    const known = this.tables.get(event.tableId);
    const raw = rawEvent(event);
    const target = known && this.binlogTarget(known);
    if (!target || !raw) return;
    if (this.statement.head) this.endStatement(); // (a table map after rows: a new statement)
    this.statement.maps.set(event.tableId, target.database === known.table.database ? raw : renameTableMapDatabase(raw, target.database, this.checksums));
  }

  private endStatement(): void {
    // (In place: what was handed out of it, its number and the joined maps, are copies.)
    this.statement.number = ++this.statementNumber;
    this.statement.maps.clear();
    this.statement.head = undefined;
  }

  /** The rows event as bytes for the replica to apply, when it goes so (see binlogRoute). */
  private binlogRows(event: RowsEvent & { rows: unknown[] }): BinlogRows | undefined {
    const raw = rawEvent(event);
    const counted = countedRows(event);
    // (A partial JSON update's bytes are not an event the replica could apply: its rows go decoded.)
    if (!raw || isPartialUpdate(event) || !this.binlogRoute(event.tableId, raw.length)) {
      if (counted !== undefined) throw new Error('internal: the rows of an event were counted, not decoded, and it does not go as a binlog event');
      return undefined;
    }
    return this.statementRows(raw, counted ?? event.rows.length);
  }

  /** A rows event's bytes, with its statement's table maps, as they travel. */
  private statementRows(raw: Uint8Array, rows: number): BinlogRows {
    // (Copies, unless the consumer copies them at once: the packet's buffer is not ours to keep.)
    const views = this.options.binlogEventViews === true;
    return { head: this.statementHead(), event: views ? raw : Buffer.from(raw), statement: this.statement.number, rows };
  }

  /** The table maps of the statement being read, joined once. */
  private statementHead(): Uint8Array {
    if (!this.statement.head) {
      const maps = this.statement.maps;
      this.statement.head = this.options.binlogEventViews === true && maps.size === 1 ? maps.values().next().value! : Buffer.concat([...maps.values()]);
    }
    return this.statement.head;
  }
}

/** A binlog stream error as one of ours: purged binlogs and lost connections say what to do. */
export function streamFailure(error: Error, endpoint: Endpoint, start: StreamStart): Error {
  const message = error.message ?? String(error);
  // (Ours already, from a transport of files; or an event format zongji cannot decode.)
  if (error instanceof BinlogSyncError) return error;
  const unsupported = unsupportedFormat(error) ?? failedLookup(error);
  if (unsupported) return unsupported;
  const where = start.file
    ? `${start.file}:${start.position}${start.gtid ? ` (GTID position ${start.gtid})` : ''}`
    : `GTID position ${start.gtid}`;
  if (/could not find first log file|purged|could not find GTID state|binlog truncated/i.test(message)) {
    return new BinlogPurgedError(
      `the source no longer has the binlog for ${where} (${message.trim()}); ` +
        'the changes since then are gone from the source: run `binlog-sync snapshot` to start over',
      { cause: error },
    );
  }
  // The source's binlogs were reset (RESET MASTER) or purged under the stream:
  // the file being read has no next one, or the GTID is in none of them. Fatal,
  // as for the server's own replica (error 1236): trying again would connect
  // only once the new history reaches the same GTID, and go on from there with
  // every transaction before it lost.
  if (/could not find next log|requested to start from GTID .* which is not in the master's binlog/i.test(message)) {
    return new BinlogPurgedError(
      `the source's binlogs no longer hold the stream's position (started at ${where}; ${message.trim()}): ` +
        'they were reset (RESET MASTER) or purged past it, and the changes since then are gone from the source: ' +
        'run `binlog-sync snapshot` to start over',
      { cause: error },
    );
  }
  if ((error as DriverError).errno === undefined && !(error as DriverError).code) return error;
  const failure = connectionFailure(error, endpoint, 'source');
  return failure instanceof ConnectionError
    ? new ConnectionError(`the binlog stream from the source ${describeEndpoint(endpoint)} failed: ${message}`, { cause: error })
    : failure;
}
