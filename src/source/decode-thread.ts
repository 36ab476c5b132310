// The worker thread that reads and decodes the binlog (threaded-source.ts
// starts it): decoding rows is CPU work of its own, and here it runs beside
// the apply loop instead of taking turns with it on the main thread. Events
// go to the main thread in batches, one message per decoded socket chunk.
// Rows of tables not replicated are dropped here, and (unless the session
// applies carefully, row by row) the statements that apply the others are
// built here too: strings cross threads far more cheaply than rows do.
// The thread may start before the session knows where to stream from (see
// spare-thread.ts): it loads its modules, then waits for the 'init' message.
import { parentPort } from 'node:worker_threads';
import { RunPreparer } from '../sql/row-runs.js';
import { mayBeSystemVersioned } from '../sql/versioning.js';
import { createLogger } from '../log/logger.js';
import { registerSecret } from '../log/secrets.js';
import { createFilter, targetTables } from '../txn/filter.js';
import { Masker } from '../mask/masker.js';
import { BinlogSource } from './binlog-source.js';
import type { RowsInPlace, SourceEvent, TableDef } from './events.js';
import type { DecodeThreadInit, ToDecodeThread, WireEvent } from './threaded-source.js';
import { PACKET_BODY_BYTES, transferList, type ValueSlot } from './wire-transfer.js';
import { collectSoon } from '../replicator/memory-budget.js';
import { binlogRowTargets } from './row-routes.js';
import { eventWeight, rowsWeight } from '../replicator/event-weight.js';
import { WirePacker } from './wire-codec.js';
import { FileTransport } from './file-transport.js';
import { StreamTransport } from './stream-transport.js';

const port = parentPort!;

// What the 'init' message sets up (see begin()).
/**
 * Build statements here: this thread's copy of the replicator's apply mode
 * (grouped), set at start and turned on by a 'prepare' message once careful
 * mode is over (the session listens to the mode and tells the stream).
 */
let prepare = false;
let preparer: RunPreparer | undefined;
/** Replicated tables (as on the replica) whose rows the applier builds (see EventStreamOptions.builtHere). */
const builtHere = new Set<string>();
/** Per source table definition: as named on the replica, or null when not replicated. */
let targetOf: (table: TableDef) => TableDef | null;
/** Masks the rows of replicated tables before they are prepared or sent: nothing unmasked leaves this thread. */
let masker: Masker | undefined;
let source: BinlogSource;
let failed = false;

/** Table definitions travel once each; rows events name them by number (and keep sharing one object on arrival). */
const tableIds = new WeakMap<TableDef, number>();
let nextTableId = 1;
/** The events of the next message. */
const pending = new WirePacker();
let flushScheduled = false;

/**
 * Most events, and weight (rows, see replicator/event-weight.ts), per
 * message: enough to make messages cheap, few enough that the apply loop's
 * queue (which pauses this thread past a weight of 10,000) is not overrun
 * by messages already on their way.
 */
const MAX_EVENTS = 512;
const MAX_WEIGHT = 1000;
let pendingWeight = 0;

/**
 * Credit: the weight of the events sent that the main thread has not yet
 * taken in, as its queue weighs them. Messages queue up unseen while the
 * main thread is busy, so the apply loop's own pause comes too late to
 * bound them; this thread stops reading instead.
 */
const CREDIT = 10_000;
let unacknowledged = 0;
/** Why the stream is held back: the apply loop asked (its queue is full), or the credit is spent. */
const held = { byApplier: false, byCredit: false };

function holdOrRelease(): void {
  if (held.byApplier || held.byCredit) source.pause();
  else source.resume();
}

function flush(): void {
  flushScheduled = false;
  preparer?.end();
  if (pending.length === 0) return;
  const events = pending.take();
  const moved = transferable(events.objects);
  port.postMessage({ type: 'events', events, weight: pendingWeight }, [...moved.list, events.bytes, events.kinds.buffer as ArrayBuffer, events.numbers.buffer as ArrayBuffer]);
  if (moved.bytes >= COLLECT_AFTER_BYTES) collectSoon();
  unacknowledged += pendingWeight;
  pendingWeight = 0;
  if (!held.byCredit && unacknowledged >= CREDIT) {
    held.byCredit = true;
    holdOrRelease();
  }
}

/** The byte values of a message's events that travel as objects: prepared statements' large values and LOAD DATA files, and row values. */
function* valueSlots(events: WireEvent[]): Generator<ValueSlot> {
  for (const event of events) {
    if (event.type !== 'rows') continue;
    for (const statement of event.prepared?.statements ?? []) {
      const blobs = statement.blobs;
      if (blobs) for (let i = 0; i < blobs.length; i++) yield { get: () => blobs[i]!, set: (v) => (blobs[i] = v) };
      if (statement.load) yield { get: () => statement.load!, set: (v) => (statement.load = v) };
    }
    const binlog = event.binlog;
    // (Not the head: its statement's later events share it, and it must stay here for them.)
    if (binlog) yield { get: () => binlog.event, set: (v) => (binlog.event = v) };
    for (const row of event.rows) {
      for (const image of [row.before, row.after]) {
        if (!image) continue;
        for (let i = 0; i < image.length; i++) {
          if (image[i] instanceof Uint8Array) yield { get: () => image[i] as Uint8Array, set: (v) => (image[i] = v) };
        }
      }
    }
  }
}

/**
 * The memory of the byte values of a message, moved to the main thread
 * instead of copied (see wire-transfer.ts); nothing here uses them once the
 * message is sent. Returns it, and its size.
 */
function transferable(events: WireEvent[]): { list: ArrayBuffer[]; bytes: number } {
  const list = transferList(valueSlots(events));
  return { list, bytes: list.reduce((n, b) => n + b.byteLength, 0) };
}

/**
 * After a message moved this much, a full collection here: the event's
 * packets (a copy of it before they were joined) and the texts decoded
 * from it are garbage, which V8 would otherwise keep for a while, and a
 * few such rows would be in memory several times over.
 */
const COLLECT_AFTER_BYTES = 8 * 1024 * 1024;

/** Stops the stream with an error for the main thread, once; what was decoded before it is sent first. */
function fail(error: unknown): void {
  if (failed) return;
  failed = true;
  flush();
  source.stop();
  port.postMessage({ type: 'error', error: describeError(error) });
}

/**
 * A rows event as it travels, its table by number: the event itself,
 * changed in place (this thread's own, nothing here reads it once it is
 * sent; the preparer keeps its rows, not the event).
 */
function onWire(event: Extract<SourceEvent, { type: 'rows' }>, table: number): WireEvent {
  const wire = event as unknown as Extract<WireEvent, { type: 'rows' }>;
  wire.table = table;
  return wire;
}

/** Adds an event to the next message; it counts against the credit as the apply loop's queue weighs it. */
function push(event: WireEvent): void {
  pending.add(event);
  pendingWeight += eventWeight(event);
}

/** The number a table definition travels by: sent first, once, ahead of the events that use it. */
function tableId(table: TableDef): number {
  let id = tableIds.get(table);
  if (id === undefined) {
    id = nextTableId++;
    tableIds.set(table, id);
    flush(); // events before it must not arrive after the table they do not use
    port.postMessage({ type: 'table', id, table });
  }
  return id;
}

/** A rows event that goes as its bytes, packed straight from its packet (see RowsInPlace); false to have it sent as an event. */
function sendInPlace(rows: RowsInPlace): boolean {
  if (failed) return true;
  const id = tableId(rows.table);
  // (As for any event that goes as it is: the open run of prepared statements ends before it.)
  preparer?.end();
  if (!pending.addInPlace(rows, id)) return false;
  pendingWeight += rowsWeight(rows.rows, rows.bytes);
  flushSoon();
  return true;
}

/** Sends the message when it is full, else once the socket's bytes are parsed. */
function flushSoon(): void {
  if (pending.length >= MAX_EVENTS || pendingWeight >= MAX_WEIGHT) flush();
  else if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

function send(event: SourceEvent): void {
  if (failed) return;
  if (event.type === 'rows') {
    const id = tableId(event.table);
    if (event.binlog) {
      // The replica applies the event itself: nothing to mask (see row-routes.ts) or build.
      preparer?.end();
      push(onWire(event, id));
    } else {
      const target = targetOf(event.table);
      if (target !== null && masker) {
        try {
          masker.maskRows(event.table, event.rows);
        } catch (error) {
          // A rule that cannot be applied stops the stream here: never a value let through.
          fail(error);
          return;
        }
      }
      // A table that may be system-versioned is built by the applier, which knows the replica's definition;
      // so is a table the replica cannot roll back, one statement per row or event (see apply/non-transactional.ts).
      if (target !== null && prepare && preparer && !mayBeSystemVersioned(target) && !builtHere.has(`${target.database}.${target.table}`)) {
        const prepared = preparer.add(event, target);
        event.rows = [];
        event.prepared = prepared;
      } else {
        preparer?.end();
        // Not replicated: the apply loop needs the event (transaction bounds, positions), not its rows.
        if (target === null) event.rows = [];
      }
      push(onWire(event, id));
    }
  } else {
    preparer?.end();
    push(event);
  }
  // An event of a reassembled packet is sent once the socket's bytes are
  // parsed (setImmediate), never from within: its body may move (wire-transfer.ts).
  if ((pending.length >= MAX_EVENTS || pendingWeight >= MAX_WEIGHT) && !(event.type === 'rows' && event.bytes >= PACKET_BODY_BYTES - 1024)) flush();
  else if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

/** A replay's last event was handed over: the main thread hears of it after the events before it. */
function sendEnd(): void {
  setImmediate(() => {
    if (failed) return;
    flush();
    port.postMessage({ type: 'end' });
  });
}

/**
 * Log lines go to the main thread's logger (its format, its destination).
 * Made before 'init' (which sets its level), so that pino is loaded while
 * the main thread still connects.
 */
const logger = createLogger({ format: 'json', write: (line) => port.postMessage({ type: 'log', line }) });

/** Sets the stream up as the session asks, and starts it. */
function begin(init: DecodeThreadInit): void {
  registerSecret(init.endpoint.password);
  registerSecret(init.relay?.nats.password);
  registerSecret(init.relay?.nats.token);
  prepare = init.prepare?.now ?? false;
  for (const table of init.builtHere ?? []) builtHere.add(table);
  preparer = init.prepare ? new RunPreparer(init.prepare) : undefined;
  targetOf = init.filter ? targetTables(createFilter(init.filter)) : (table: TableDef): TableDef => table;
  masker = init.mask && init.mask.rules.length > 0 ? new Masker(init.mask) : undefined;
  logger.level = init.logLevel;
  source = new BinlogSource({
    endpoint: init.endpoint,
    serverId: init.serverId,
    start: init.start,
    logger,
    ...(init.binlogRows ? { binlogRowTarget: binlogRowTargets({ filter: init.filter, mask: init.mask }, logger) } : {}),
    // (Copied into the message at once, see wire-codec.ts.)
    binlogEventViews: true,
    ...(init.heartbeatMs !== undefined ? { heartbeatMs: init.heartbeatMs } : {}),
    ...(init.silenceMs !== undefined ? { silenceMs: init.silenceMs } : {}),
    ...(init.collations ? { collations: init.collations } : {}),
    onEvent: send,
    onRowsInPlace: sendInPlace,
    onError: fail,
    ...(init.replay ? { transport: new FileTransport({ plan: init.replay, onEnd: sendEnd }) } : {}),
    ...(init.relay ? { transport: new StreamTransport(init.relay) } : {}),
  });
  source.start().then(
    () => port.postMessage({ type: 'ready' }),
    (error: unknown) => port.postMessage({ type: 'error', error: describeError(error) }),
  );
}

port.on('message', (message: ToDecodeThread) => {
  if (message.type === 'init') {
    begin(message.init);
  } else if (message.type === 'ack') {
    unacknowledged -= message.weight;
    if (held.byCredit && unacknowledged < CREDIT / 2) {
      held.byCredit = false;
      holdOrRelease();
    }
  } else if (message.type === 'prepare') {
    prepare = true;
  } else if (message.type === 'build-here') {
    builtHere.add(message.table);
  } else if (message.type === 'pause' || message.type === 'resume') {
    held.byApplier = message.type === 'pause';
    holdOrRelease();
  } else {
    source?.stop(); // (undefined only if stopped before 'init', which the session never does)
    port.close();
  }
});

function describeError(error: unknown): { name: string; message: string; errno?: number; code?: string } {
  const e = error as { name?: string; message?: string; errno?: number; code?: string; constructor?: { name?: string } };
  return {
    name: e.constructor?.name ?? e.name ?? 'Error',
    message: e.message ?? String(error),
    ...(typeof e.errno === 'number' ? { errno: e.errno } : {}),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
  };
}
