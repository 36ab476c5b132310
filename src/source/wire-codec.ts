// How the decoding thread's messages carry their most common events: rows
// events that go as binlog events (their bytes, and a few numbers), GTID
// and XID events (with the relay stream's sequence, for `start --from`).
// Structured cloning an event object costs both threads about as much as
// the rest of its way (every key and value written and read back one by
// one, and the objects collected afterwards); these are packed instead into
// one array of numbers, one of strings and one buffer of bytes, which move
// between threads at no copy, and are made into the same events again on
// the main thread. Everything else (DDL, rows decoded or prepared, rows
// with some columns absent from their images, large events...) travels as
// an object, in its place among them.
import { allPresent, type RowsInPlace, type RowsKind, type SourceEvent, type TableDef } from './events.js';

/** A source event on its way between threads: a rows event's table by number. */
export type WireEvent = Exclude<SourceEvent, { type: 'rows' }> | (Omit<Extract<SourceEvent, { type: 'rows' }>, 'table'> & { table: number });

/** How an event of a message travels. */
const OBJECT = 0;
const BINLOG_ROWS = 1;
const GTID = 2;
const XID = 3;
/** An XID event that ends a relay stream's message: its sequence too (see StreamEnd). */
const STREAM_XID = 4;

/** Numbers per packed event, by how it is packed. */
const ROWS_NUMBERS = 13;
const GTID_NUMBERS = 5;
const XID_NUMBERS = 3;
const STREAM_XID_NUMBERS = 4;

const KINDS: readonly RowsKind[] = ['insert', 'update', 'delete'];
const KIND_CODES: Readonly<Record<RowsKind, number>> = { insert: 0, update: 1, delete: 2 };

/** A rows event's bytes from this size travel as an object (see wire-transfer.ts: moved, not copied again). */
export const PACKED_EVENT_BYTES = 64 * 1024;

/** The buffer the bytes of a message are gathered in (a message's own is a copy of what it holds). */
const SCRATCH_BYTES = 256 * 1024;

/** A message's events, packed. */
export interface PackedEvents {
  /** How each event travels, in order: OBJECT is the next of `objects`. */
  kinds: Uint8Array;
  /** The packed events' numbers, one after the other. */
  numbers: Float64Array;
  /** GTIDs and file names, by index. */
  strings: string[];
  /** The binlog events' bytes (rows events, and their statements' table maps, once per statement), and maybe room after them. */
  bytes: ArrayBuffer;
  objects: WireEvent[];
}

type RowsWire = Extract<WireEvent, { type: 'rows' }>;

/** Gathers the events of the next message (decode-thread.ts). */
export class WirePacker {
  private kinds = new Uint8Array(1024);
  private count = 0;
  private numbers = new Float64Array(8192);
  private used = 0;
  private strings: string[] = [];
  private bytes = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  private filled = 0;
  private objects: WireEvent[] = [];
  /** The last file name and table maps written in this message, and where. */
  private lastFile: string | undefined;
  private lastFileIndex = 0;
  private lastHead: Uint8Array | undefined;
  private lastHeadAt = 0;
  /** The table maps last copied for an event that travels as an object. */
  private copiedHead: { from: Uint8Array; copy: Buffer } | undefined;

  /** Events in the message so far. */
  get length(): number {
    return this.count;
  }

  /**
   * Adds an event: packed (its bytes copied in), or to travel as an object;
   * the bytes of a binlog rows event that travels so are made copies of
   * their own (they may be views of a packet: see binlogEventViews).
   */
  add(event: WireEvent): void {
    if (event.type === 'rows' && event.binlog && !packable(event)) {
      const binlog = event.binlog;
      // (A statement's events share its table maps: one copy of them.)
      if (binlog.head !== this.copiedHead?.from) this.copiedHead = { from: binlog.head, copy: Buffer.from(binlog.head) };
      binlog.head = this.copiedHead.copy;
      binlog.event = Buffer.from(binlog.event);
    }
    if (event.type === 'rows' && packable(event)) {
      const binlog = event.binlog!;
      const bytes = binlog.event;
      this.pack(
        {
          kind: event.kind,
          bytes: event.bytes,
          noForeignKeyChecks: event.noForeignKeyChecks,
          statementEnd: event.statementEnd,
          file: event.file,
          nextPosition: event.nextPosition,
          timestamp: event.timestamp,
          head: binlog.head,
          statement: binlog.statement,
          rows: binlog.rows,
          packet: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
          start: 0,
          end: bytes.byteLength,
        },
        event.table,
      );
    } else if (event.type === 'gtid' && !event.xa) {
      const n = this.reserve(GTID, GTID_NUMBERS);
      this.numbers[n] = this.strings.push(event.gtid) - 1;
      this.numbers[n + 1] = event.impliesBegin ? 1 : 0;
      this.numbers[n + 2] = event.nextPosition;
      this.numbers[n + 3] = event.timestamp;
      this.numbers[n + 4] = this.file(event.file);
    } else if (event.type === 'xid') {
      const seq = event.streamSeq;
      const n = seq === undefined ? this.reserve(XID, XID_NUMBERS) : this.reserve(STREAM_XID, STREAM_XID_NUMBERS);
      this.numbers[n] = event.nextPosition;
      this.numbers[n + 1] = event.timestamp;
      this.numbers[n + 2] = this.file(event.file);
      if (seq !== undefined) this.numbers[n + 3] = seq;
    } else {
      this.reserve(OBJECT, 0);
      this.objects.push(event);
    }
  }

  /**
   * Adds a rows event described where it lies (see RowsInPlace), packed as
   * add() packs it, its bytes copied from its packet; false when it does
   * not pack (then add() it as an event).
   */
  addInPlace(r: RowsInPlace, table: number): boolean {
    if (r.end - r.start >= PACKED_EVENT_BYTES || r.head.length >= PACKED_EVENT_BYTES) return false;
    this.pack(r, table);
    return true;
  }

  /** Packs a binlog rows event (its table by number), its bytes and its statement's table maps copied in. */
  private pack(r: Omit<RowsInPlace, 'table' | 'statementEnd'> & { statementEnd: boolean | undefined }, table: number): void {
    const n = this.reserve(BINLOG_ROWS, ROWS_NUMBERS);
    if (r.head !== this.lastHead) {
      this.lastHead = r.head;
      this.lastHeadAt = this.write(r.head);
    }
    const numbers = this.numbers;
    numbers[n] = KIND_CODES[r.kind];
    numbers[n + 1] = table;
    numbers[n + 2] = r.bytes;
    numbers[n + 3] = (r.noForeignKeyChecks ? 1 : 0) | (r.statementEnd === undefined ? 0 : r.statementEnd ? 2 : 4);
    numbers[n + 4] = r.nextPosition;
    numbers[n + 5] = r.timestamp;
    numbers[n + 6] = r.statement;
    numbers[n + 7] = r.rows;
    numbers[n + 8] = this.lastHeadAt;
    numbers[n + 9] = r.head.length;
    numbers[n + 10] = this.writeRange(r.packet, r.start, r.end);
    numbers[n + 11] = r.end - r.start;
    numbers[n + 12] = this.file(r.file);
  }

  /** The message's events, packed (their arrays and buffer of their own, to be moved); and starts over. */
  take(): PackedEvents {
    // The bytes: the buffer they were gathered in, when they fill much of it
    // (a new one for the next message), else a copy of them.
    let bytes: ArrayBuffer;
    if (this.filled >= this.bytes.length / 4) {
      bytes = this.bytes.buffer as ArrayBuffer;
      this.bytes = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
    } else {
      bytes = this.bytes.buffer.slice(0, this.filled) as ArrayBuffer;
    }
    const packed: PackedEvents = {
      kinds: this.kinds.slice(0, this.count),
      numbers: this.numbers.slice(0, this.used),
      strings: this.strings,
      bytes,
      objects: this.objects,
    };
    this.count = 0;
    this.used = 0;
    this.filled = 0;
    this.strings = [];
    this.objects = [];
    this.lastFile = undefined;
    this.lastHead = undefined;
    this.copiedHead = undefined;
    // (A buffer grown for large events is let go of.)
    if (this.bytes.length > SCRATCH_BYTES) this.bytes = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
    return packed;
  }

  /** Room for an event of `numbers` numbers: where they go. */
  private reserve(kind: number, numbers: number): number {
    if (this.count === this.kinds.length) this.kinds = grown(this.kinds, this.count + 1);
    this.kinds[this.count++] = kind;
    const at = this.used;
    if (at + numbers > this.numbers.length) this.numbers = grown(this.numbers, at + numbers);
    this.used += numbers;
    return at;
  }

  /** Copies bytes in: where they are. */
  private write(bytes: Uint8Array): number {
    return this.writeRange(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.byteLength);
  }

  /** Copies packet[start, end) in: where it is. */
  private writeRange(packet: Buffer, start: number, end: number): number {
    const at = this.filled;
    const length = end - start;
    if (at + length > this.bytes.length) {
      const larger = Buffer.allocUnsafeSlow(Math.max(2 * this.bytes.length, at + length));
      this.bytes.copy(larger, 0, 0, at);
      this.bytes = larger;
    }
    packet.copy(this.bytes, at, start, end);
    this.filled += length;
    return at;
  }

  private file(file: string): number {
    if (file !== this.lastFile) {
      this.lastFile = file;
      this.lastFileIndex = this.strings.push(file) - 1;
    }
    return this.lastFileIndex;
  }
}

/**
 * A rows event packs when it goes as a binlog event of ordinary size and
 * every column is in its images (FULL row images): all else a packed event
 * does not say.
 */
function packable(event: RowsWire): boolean {
  const binlog = event.binlog;
  return (
    binlog !== undefined &&
    event.rows.length === 0 &&
    event.prepared === undefined &&
    binlog.event.length < PACKED_EVENT_BYTES &&
    binlog.head.length < PACKED_EVENT_BYTES &&
    event.present === allPresent(event.present.length) &&
    (event.kind === 'update' ? event.presentAfter === event.present : event.presentAfter === undefined)
  );
}

function grown<T extends Uint8Array | Float64Array>(array: T, least: number): T {
  const larger = new (array.constructor as new (length: number) => T)(Math.max(2 * array.length, least));
  larger.set(array);
  return larger;
}

/** What sees where a message's events are as it arrives (the stream's health), before any is made. */
export interface PlaceObserver {
  /** An event that travelled as an object (it may still be unfinished: a rows event's table by number). */
  observe(event: WireEvent, now: number): void;
  /** A packed event: its binlog file, where the next event begins, and its timestamp (as SourceEvent has it). */
  observePlace(file: string, nextPosition: number, timestamp: number, now: number): void;
}

/**
 * The events of a packed message, made one at a time as they are taken:
 * those that travelled as objects as they came (for the receiver to
 * finish, see `lastWasObject`), the others made again as the source made
 * them. Made only when the apply loop takes them, events die young: a
 * queue of thousands of them made at once outlived the collector's young
 * generation, and copying them cost the main thread more than making them.
 */
export class PackedReader {
  private i = 0;
  private n = 0;
  private object = 0;
  private headAt = -1;
  private head: Buffer | undefined;
  /** Whether the event next() returned last travelled as an object. */
  lastWasObject = false;

  constructor(
    private readonly packed: PackedEvents,
    private readonly tableOf: (id: number) => TableDef,
  ) {}

  /** Events not yet made. */
  get remaining(): number {
    return this.packed.kinds.length - this.i;
  }

  next(): SourceEvent | WireEvent | undefined {
    const { kinds, numbers, strings, bytes, objects } = this.packed;
    if (this.i >= kinds.length) return undefined;
    const n = this.n;
    switch (kinds[this.i++]) {
      case BINLOG_ROWS: {
        const table = this.tableOf(numbers[n + 1]!);
        const kind = KINDS[numbers[n]!]!;
        const flags = numbers[n + 3]!;
        if (numbers[n + 8] !== this.headAt || !this.head) {
          this.headAt = numbers[n + 8]!;
          this.head = Buffer.from(bytes, this.headAt, numbers[n + 9]);
        }
        const present = allPresent(table.columns.length);
        this.n += ROWS_NUMBERS;
        this.lastWasObject = false;
        return {
          type: 'rows',
          bytes: numbers[n + 2]!,
          kind,
          table,
          present,
          rows: [],
          noForeignKeyChecks: (flags & 1) !== 0,
          // (Every key written here, in one order, none added or deleted later: the
          // events keep one shape, and a deleted key would make this one a slow dictionary.)
          statementEnd: (flags & 6) === 0 ? undefined : (flags & 2) !== 0,
          presentAfter: kind === 'update' ? present : undefined,
          file: strings[numbers[n + 12]!]!,
          nextPosition: numbers[n + 4]!,
          timestamp: numbers[n + 5]!,
          binlog: { head: this.head, event: Buffer.from(bytes, numbers[n + 10], numbers[n + 11]), statement: numbers[n + 6]!, rows: numbers[n + 7]! },
        };
      }
      case GTID:
        this.n += GTID_NUMBERS;
        this.lastWasObject = false;
        return {
          type: 'gtid',
          gtid: strings[numbers[n]!]!,
          impliesBegin: numbers[n + 1] === 1,
          file: strings[numbers[n + 4]!]!,
          nextPosition: numbers[n + 2]!,
          timestamp: numbers[n + 3]!,
        };
      case XID:
        this.n += XID_NUMBERS;
        this.lastWasObject = false;
        return { type: 'xid', file: strings[numbers[n + 2]!]!, nextPosition: numbers[n]!, timestamp: numbers[n + 1]! };
      case STREAM_XID:
        this.n += STREAM_XID_NUMBERS;
        this.lastWasObject = false;
        return { type: 'xid', file: strings[numbers[n + 2]!]!, nextPosition: numbers[n]!, timestamp: numbers[n + 1]!, streamSeq: numbers[n + 3]! };
      default:
        this.lastWasObject = true;
        return objects[this.object++]!;
    }
  }

  /** Tells `observer` where each event of the message is, in order, without making any. */
  observeAll(observer: PlaceObserver, now: number): void {
    const { kinds, numbers, strings, objects } = this.packed;
    let n = 0;
    let object = 0;
    for (let i = 0; i < kinds.length; i++) {
      switch (kinds[i]) {
        case BINLOG_ROWS:
          observer.observePlace(strings[numbers[n + 12]!]!, numbers[n + 4]!, numbers[n + 5]!, now);
          n += ROWS_NUMBERS;
          break;
        case GTID:
          observer.observePlace(strings[numbers[n + 4]!]!, numbers[n + 2]!, numbers[n + 3]!, now);
          n += GTID_NUMBERS;
          break;
        case XID:
          observer.observePlace(strings[numbers[n + 2]!]!, numbers[n]!, numbers[n + 1]!, now);
          n += XID_NUMBERS;
          break;
        case STREAM_XID:
          observer.observePlace(strings[numbers[n + 2]!]!, numbers[n]!, numbers[n + 1]!, now);
          n += STREAM_XID_NUMBERS;
          break;
        default:
          observer.observe(objects[object++]!, now);
      }
    }
  }
}

/** The events of a packed message, all at once, in order, to `deliver` (see PackedReader). */
export function unpackEvents(
  packed: PackedEvents,
  tableOf: (id: number) => TableDef,
  deliver: (event: SourceEvent | WireEvent, packed: boolean) => void,
): void {
  const reader = new PackedReader(packed, tableOf);
  for (let event = reader.next(); event !== undefined; event = reader.next()) deliver(event, !reader.lastWasObject);
}
