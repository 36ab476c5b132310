import { describe, expect, it } from 'vitest';
import { PACKED_EVENT_BYTES, PackedReader, unpackEvents, WirePacker, type PackedEvents } from '../../../src/source/wire-codec.js';
import { allPresent, type SourceEvent, type TableDef } from '../../../src/source/events.js';
import type { WireEvent } from '../../../src/source/threaded-source.js';

const table: TableDef = {
  database: 'db',
  table: 't',
  columns: [
    { name: 'id', kind: 'plain' },
    { name: 'v', kind: 'plain' },
  ],
  primaryKey: [0],
};
const other: TableDef = { ...table, table: 'u', columns: [{ name: 'id', kind: 'plain' }] };
const tables = new Map([
  [1, table],
  [2, other],
]);

const header = (nextPosition: number): { file: string; nextPosition: number; timestamp: number } => ({ file: 'mysql-bin.000007', nextPosition, timestamp: 1_700_000_000_000 + nextPosition });

function binlogRows(kind: 'insert' | 'update' | 'delete', head: Buffer, statement: number, event: Buffer, extra: Partial<Extract<SourceEvent, { type: 'rows' }>> = {}): Extract<SourceEvent, { type: 'rows' }> {
  const present = allPresent(2);
  return {
    type: 'rows',
    bytes: event.length,
    kind,
    table,
    present,
    rows: [],
    noForeignKeyChecks: false,
    statementEnd: true,
    ...header(0),
    ...(kind === 'update' ? { presentAfter: present } : {}),
    binlog: { head, event, statement, rows: 3 },
    ...extra,
  };
}

/** As the decoding thread sends them: the table by number. */
function onWire(event: SourceEvent): WireEvent {
  return event.type === 'rows' ? ({ ...event, table: event.table === table ? 1 : 2 } as WireEvent) : event;
}

/** Packs, moves across as postMessage does (the buffers transferred), and unpacks. */
function roundTrip(events: SourceEvent[]): { events: Array<SourceEvent | WireEvent>; packed: boolean[]; message: PackedEvents } {
  const packer = new WirePacker();
  for (const event of events) packer.add(onWire(event));
  expect(packer.length).toBe(events.length);
  const taken = packer.take();
  expect(packer.length).toBe(0);
  const message = structuredClone(taken, { transfer: [taken.bytes, taken.kinds.buffer as ArrayBuffer, taken.numbers.buffer as ArrayBuffer] });
  const out: Array<SourceEvent | WireEvent> = [];
  const packed: boolean[] = [];
  unpackEvents(
    message,
    (id) => tables.get(id)!,
    (event, isPacked) => {
      out.push(event);
      packed.push(isPacked);
    },
  );
  return { events: out, packed, message };
}

describe('decoding thread messages: packed events', () => {
  it('makes binlog rows events, GTIDs and XIDs again as they were, and lets the rest travel as objects, in order', () => {
    const head1 = Buffer.from('table maps of statement 1');
    const head2 = Buffer.from('table maps of statement 2');
    const events: SourceEvent[] = [
      { type: 'gtid', gtid: '0-1-42', impliesBegin: true, ...header(100) },
      binlogRows('insert', head1, 1, Buffer.from('insert rows event'), { statementEnd: false }),
      binlogRows('update', head1, 1, Buffer.from('update rows event'), { noForeignKeyChecks: true, nextPosition: 0 }),
      { type: 'query', sql: 'CREATE TABLE x (a INT)', database: 'db', ...header(200) },
      binlogRows('delete', head2, 2, Buffer.from('delete rows event')),
      // Not all columns present (MINIMAL image), decoded rows, XA, a large event: as objects.
      binlogRows('delete', head2, 2, Buffer.from('minimal'), { present: [true, false] }),
      {
        type: 'rows',
        bytes: 10,
        kind: 'insert',
        table: other,
        present: allPresent(1),
        rows: [{ after: [Buffer.from('x')] }],
        noForeignKeyChecks: false,
        statementEnd: true,
        ...header(0),
      },
      { type: 'gtid', gtid: '0-1-43', impliesBegin: true, xa: { phase: 'prepare', xid: "X'31',X'',1" }, ...header(300) },
      binlogRows('insert', head2, 3, Buffer.alloc(PACKED_EVENT_BYTES, 7)),
      { type: 'xid', ...header(400), file: 'mysql-bin.000008' },
      { type: 'heartbeat', file: 'mysql-bin.000008', position: 400 },
    ];
    const { events: out, packed, message } = roundTrip(events);
    expect(packed).toEqual([true, true, true, false, true, false, false, false, false, true, false]);
    // (Objects come as they travelled, their table by number and their bytes as Uint8Arrays: the receiver finishes them.)
    expect(out).toEqual(events.map((e, i) => (packed[i] ? e : structuredClone(onWire(e)))));
    const updated = out[2] as Extract<SourceEvent, { type: 'rows' }>;
    expect(updated.present).toBe(allPresent(2));
    expect(updated.presentAfter).toBe(updated.present);
    expect(updated.table).toBe(table);
    expect(Buffer.isBuffer(updated.binlog!.head)).toBe(true);
    // A statement's table maps travel once, and its events share them.
    expect((out[1] as typeof updated).binlog!.head).toBe(updated.binlog!.head);
    const written = Buffer.from('table maps of statement 1insert rows eventupdate rows eventtable maps of statement 2delete rows event');
    expect(Buffer.from(message.bytes, 0, written.length)).toEqual(written);
    expect(message.strings).toEqual(['0-1-42', 'mysql-bin.000007', 'mysql-bin.000008']);
  });

  it("packs an XID that ends a relay stream's message with its sequence, and one without as ever", () => {
    const events: SourceEvent[] = [
      { type: 'xid', ...header(400), streamSeq: 2 ** 40 + 1 },
      { type: 'xid', ...header(500) },
      { type: 'query', sql: 'CREATE TABLE x (a INT)', database: 'db', ...header(600), streamSeq: 9 },
    ];
    const { events: out, packed } = roundTrip(events);
    expect(packed).toEqual([true, true, false]);
    expect(out).toEqual(events);
    expect(out[1]).not.toHaveProperty('streamSeq');
  });

  it('packs a rows event described in its packet as it packs the same event given as an object', () => {
    const head = Buffer.from('table maps');
    const packet = Buffer.from('..header+rows event bytes..');
    const event = binlogRows('update', head, 4, packet.subarray(2, 25), { noForeignKeyChecks: true, nextPosition: 900, timestamp: 1_700_000_000_900 });
    const byObject = roundTrip([event]);
    const packer = new WirePacker();
    const place = {
      kind: 'update' as const,
      table,
      bytes: event.bytes,
      noForeignKeyChecks: true,
      statementEnd: true,
      file: event.file,
      nextPosition: 900,
      timestamp: 1_700_000_000_900,
      head,
      statement: 4,
      rows: 3,
      packet,
      start: 2,
      end: 25,
    };
    expect(packer.addInPlace(place, 1)).toBe(true);
    const taken = packer.take();
    const out: Array<SourceEvent | WireEvent> = [];
    unpackEvents(taken, (id) => tables.get(id)!, (e) => out.push(e));
    expect(out).toEqual(byObject.events);
    expect(Buffer.from(taken.bytes, 0, head.length + 23)).toEqual(Buffer.from(byObject.message.bytes, 0, head.length + 23));
    // Too large to pack: left to travel as an event.
    expect(packer.addInPlace({ ...place, packet: Buffer.alloc(PACKED_EVENT_BYTES + 10), end: PACKED_EVENT_BYTES + 2 }, 1)).toBe(false);
    expect(packer.length).toBe(0);
  });

  it('gives the bytes of a binlog rows event that travels as an object copies of their own (they may be views of a packet)', () => {
    const packet = Buffer.alloc(1024 * 1024, 9);
    const head = packet.subarray(10, 40);
    const events: SourceEvent[] = [
      binlogRows('delete', head, 4, packet.subarray(40, 90), { present: [true, false] }),
      binlogRows('delete', head, 4, packet.subarray(90, 140), { present: [true, false] }),
      binlogRows('delete', head, 4, packet.subarray(140, 190)),
    ];
    const { events: out, packed } = roundTrip(events);
    expect(packed).toEqual([false, false, true]);
    for (const event of out.slice(0, 2) as Array<Extract<WireEvent, { type: 'rows' }>>) {
      expect(event.binlog!.head.buffer.byteLength).toBeLessThan(packet.length);
      expect(event.binlog!.event.buffer.byteLength).toBeLessThan(packet.length);
    }
    expect((out[0] as Extract<WireEvent, { type: 'rows' }>).binlog!.head).toBe((out[1] as Extract<WireEvent, { type: 'rows' }>).binlog!.head);
    expect(out).toEqual(events.map((e, i) => (packed[i] ? e : structuredClone(onWire(e)))));
  });

  it('starts each message afresh, however large the one before', () => {
    const packer = new WirePacker();
    const big = Buffer.alloc(PACKED_EVENT_BYTES - 1, 1);
    for (let i = 0; i < 40; i++) packer.add(onWire(binlogRows('insert', Buffer.from(`head ${i}`), i, big)));
    const first = packer.take();
    expect(first.kinds.length).toBe(40);
    expect(first.bytes.byteLength).toBeGreaterThan(40 * big.length);
    packer.add(onWire({ type: 'xid', ...header(5) }));
    const second = packer.take();
    expect(second.kinds.length).toBe(1);
    // (Few bytes: a copy of them, not the buffer they were gathered in.)
    expect(second.bytes.byteLength).toBe(0);
    expect(second.objects).toEqual([]);
  });
});

describe('decoding thread messages: read as they are taken', () => {
  it('makes the events one at a time, as unpackEvents makes them all, and counts what is left', () => {
    const head = Buffer.from('table maps');
    const events: SourceEvent[] = [
      { type: 'gtid', gtid: '0-1-7', impliesBegin: true, ...header(100) },
      binlogRows('insert', head, 1, Buffer.from('rows')),
      { type: 'query', sql: 'DROP TABLE x', database: 'db', ...header(200) },
      { type: 'xid', ...header(300) },
      { type: 'xid', ...header(400), streamSeq: 77 },
    ];
    const packer = new WirePacker();
    for (const event of events) packer.add(onWire(event));
    const reader = new PackedReader(packer.take(), (id) => tables.get(id)!);
    const made: Array<[SourceEvent | WireEvent, boolean]> = [];
    expect(reader.remaining).toBe(5);
    for (let event = reader.next(); event !== undefined; event = reader.next()) made.push([event, reader.lastWasObject]);
    expect(reader.remaining).toBe(0);
    expect(made.map(([, object]) => object)).toEqual([false, false, true, false, false]);
    expect(made.map(([event]) => event)).toEqual(events);
  });

  it("tells where every event is, in order, without making any (the stream's health on arrival)", () => {
    const head = Buffer.from('table maps');
    const events: SourceEvent[] = [
      { type: 'rotate', file: 'mysql-bin.000007', position: 4 },
      { type: 'gtid', gtid: '0-1-7', impliesBegin: true, ...header(100) },
      binlogRows('update', head, 1, Buffer.from('rows'), { nextPosition: 150 }),
      { type: 'xid', ...header(300), streamSeq: 12 },
      { type: 'xid', ...header(400) },
    ];
    const packer = new WirePacker();
    for (const event of events) packer.add(onWire(event));
    const reader = new PackedReader(packer.take(), (id) => tables.get(id)!);
    const seen: unknown[] = [];
    reader.observeAll({ observe: (event, now) => seen.push([event.type, now]), observePlace: (file, next, timestamp, now) => seen.push([file, next, timestamp, now]) }, 5);
    expect(seen).toEqual([
      ['rotate', 5],
      ['mysql-bin.000007', 100, header(100).timestamp, 5],
      ['mysql-bin.000007', 150, header(0).timestamp, 5],
      ['mysql-bin.000007', 300, header(300).timestamp, 5],
      ['mysql-bin.000007', 400, header(400).timestamp, 5],
    ]);
    // (Nothing was taken.)
    expect(reader.remaining).toBe(5);
  });
});
