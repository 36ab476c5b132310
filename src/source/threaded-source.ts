// The binlog stream decoded on a worker thread (decode-thread.ts), behind the
// same face as BinlogSource: the apply loop builds and sends statements on
// the main thread while the next events are being decoded beside it.
import type { Worker } from 'node:worker_threads';
import * as errors from '../errors.js';
import type { Endpoint } from '../config/connection-url.js';
import { settledEndpoint } from '../db/connect.js';
import type { BinlogSource, BinlogSourceOptions, StreamStart } from './binlog-source.js';
import type { Collations } from './collations.js';
import type { SourceEvent, TableDef } from './events.js';
import type { BatchingOptions } from '../sql/prepare.js';
import { createFilter, targetTables, type FilterSettings } from '../txn/filter.js';
import { Masker, type MaskSettings } from '../mask/masker.js';
import { binlogRowTargets } from './row-routes.js';
import { PackedReader, unpackEvents, type PackedEvents, type PlaceObserver, type WireEvent } from './wire-codec.js';
import type { EventBatch } from '../replicator/event-queue.js';
import { decodeThreadRunnable, takeDecodeThread } from './spare-thread.js';
import type { ReplayPlan } from '../replay/plan.js';
import { FileTransport } from './file-transport.js';
import { StreamTransport, type RelayFeed } from './stream-transport.js';

/** What a binlog stream offers the session, wherever it is decoded. */
export interface EventStream {
  start(): Promise<void>;
  pause(): void;
  resume(): void;
  stop(): void;
  /** From now on, rows events may arrive with their statements prepared (see decode-thread.ts). */
  prepare(): void;
  /** Rows of this replicated table (as on the replica) are never prepared from now on: the applier builds them. */
  buildHere(table: string): void;
}

export interface EventStreamOptions extends BinlogSourceOptions {
  /** What the session replicates: rows of other tables are dropped where they are decoded. */
  filter?: FilterSettings;
  /**
   * Build the statements of replicated rows where they are decoded, for a
   * replica of this flavor; `now` false waits for prepare() (careful mode first).
   */
  prepare?: BatchingOptions & { now: boolean };
  /**
   * Replicated tables (`db.table` as on the replica) whose rows are never
   * prepared: the applier builds them (tables the replica cannot roll back,
   * see apply/non-transactional.ts).
   */
  builtHere?: string[];
  /** Whether this run may decode on a worker thread; turned off here when the thread runs out of memory. */
  capabilities: DecodeThreadCapability;
  /** The largest row the source accepts (its max_allowed_packet): the decoding thread's heap makes room for it. */
  largestRowBytes?: number;
  /** Masking: the rows of replicated tables are masked where they are decoded, before anything else sees them. */
  mask?: MaskSettings;
  /** Rows of replicated tables without masked columns go as binlog events, for the replica to apply itself (see row-routes.ts). */
  binlogRows?: boolean;
  /** Read these binlog files instead of the source's stream (`replay`, see file-transport.ts). */
  replay?: ReplayPlan;
  /** Read a relay's JetStream stream instead of the source's (`start --from`, see stream-transport.ts). */
  relay?: RelayFeed;
  /** A replay has handed over its last event (after it, in order). */
  onEnd?: () => void;
  /**
   * The decoding thread's events a message at a time, made as they are
   * taken (see EventQueue.pushBatch); `weight` is theirs in all. Without
   * it, or decoded on this thread, each event goes to onEvent.
   */
  onEvents?: (events: MessageEvents, weight: number) => void;
}

/** A decoding thread's message: its events made one at a time, as the apply loop takes them. */
export class MessageEvents implements EventBatch<SourceEvent> {
  constructor(
    private readonly reader: PackedReader,
    private readonly finish: (wire: WireEvent) => SourceEvent,
  ) {}

  get remaining(): number {
    return this.reader.remaining;
  }

  next(): SourceEvent | undefined {
    const event = this.reader.next();
    if (event === undefined || !this.reader.lastWasObject) return event as SourceEvent | undefined;
    return this.finish(event as WireEvent);
  }

  /** Tells the stream's health where each event is, as they arrive (before any is made). */
  observeAll(observer: PlaceObserver, now: number): void {
    this.reader.observeAll(observer, now);
  }
}

/** The run's decoding-thread capability (see capabilities.ts). */
export interface DecodeThreadCapability {
  readonly decodeThread: boolean;
  disable(capability: 'decodeThread', reason: string): void;
}

export type { WireEvent } from './wire-codec.js';

export interface DecodeThreadInit extends Pick<EventStreamOptions, 'filter' | 'prepare' | 'builtHere' | 'mask' | 'binlogRows' | 'replay' | 'relay'> {
  endpoint: Endpoint;
  serverId: number;
  start: StreamStart;
  heartbeatMs?: number;
  silenceMs?: number;
  logLevel: string;
  collations?: Collations;
}

export type ToDecodeThread =
  /** The first message: what to stream (the thread may have been started before that was known, see spare-thread.ts). */
  | { type: 'init'; init: DecodeThreadInit }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'prepare' }
  | { type: 'build-here'; table: string }
  | { type: 'ack'; weight: number };

type FromDecodeThread =
  | { type: 'ready' }
  | { type: 'table'; id: number; table: TableDef }
  | { type: 'log'; line: string }
  | { type: 'events'; events: PackedEvents; weight: number }
  | { type: 'end' }
  | { type: 'error'; error: { name: string; message: string; errno?: number; code?: string } };

/**
 * The stream for a session: decoded on a worker thread when running from the
 * built JavaScript (the worker needs a file it can load) and the run may
 * (not after the thread ran out of memory, nor with BINLOG_SYNC_DECODE_THREAD=0),
 * in line otherwise.
 */
export function openEventStream(options: EventStreamOptions): EventStream {
  if (!options.capabilities.decodeThread || !decodeThreadRunnable()) return new InLineStream(options);
  return new ThreadedSource(options);
}

/**
 * Decoded on the main thread: rows arrive as values, and the applier builds
 * their statements. zongji is loaded only then: while the decoding thread
 * reads the stream, the main thread has no use for it.
 */
class InLineStream implements EventStream {
  private source: BinlogSource | undefined;
  private stopped = false;

  constructor(private readonly options: EventStreamOptions) {}

  async start(): Promise<void> {
    const { BinlogSource } = await import('./binlog-source.js');
    if (this.stopped) return;
    const { replay, relay, onEnd } = this.options;
    const transport = replay
      ? { transport: new FileTransport({ plan: replay, onEnd: () => onEnd?.() }) }
      : relay
        ? { transport: new StreamTransport(relay) }
        : {};
    this.source = new BinlogSource({ ...masked(this.options), ...transport });
    await this.source.start();
  }

  pause(): void {
    this.source?.pause();
  }

  resume(): void {
    this.source?.resume();
  }

  stop(): void {
    this.stopped = true;
    this.source?.stop();
  }

  prepare(): void {}

  buildHere(): void {}
}

/**
 * The rows of replicated tables masked as they are decoded (on the main
 * thread; the decoding thread masks its own). A rule that cannot be applied
 * stops the stream: refusing beats letting a value through.
 */
export function masked(options: EventStreamOptions): BinlogSourceOptions {
  const routed: BinlogSourceOptions = options.binlogRows
    ? { ...options, binlogRowTarget: binlogRowTargets({ filter: options.filter, mask: options.mask }, options.logger) }
    : options;
  if (!options.mask || options.mask.rules.length === 0) return routed;
  const masker = new Masker(options.mask);
  const targetOf = options.filter ? targetTables(createFilter(options.filter)) : undefined;
  return {
    ...routed,
    onEvent: (event) => {
      if (event.type === 'rows' && !event.binlog && (!targetOf || targetOf(event.table) !== null)) {
        try {
          masker.maskRows(event.table, event.rows);
        } catch (error) {
          options.onError(error as Error);
          return;
        }
      }
      options.onEvent(event);
    },
  };
}

class ThreadedSource implements EventStream {
  private worker: Worker | undefined;
  private readonly tables = new Map<number, TableDef>();
  private stopped = false;
  /** Decoding here after all, when the thread ran out of memory before it was ready. */
  private fallback: EventStream | undefined;

  constructor(private readonly options: EventStreamOptions) {}

  start(): Promise<void> {
    const { options } = this;
    const { endpoint, serverId, start, heartbeatMs, silenceMs, logger } = options;
    const init: DecodeThreadInit = {
      // The thread has its own copy of what connect() learned: hand it the settled TLS mode.
      endpoint: settledEndpoint(endpoint),
      serverId,
      start,
      ...(heartbeatMs !== undefined ? { heartbeatMs } : {}),
      ...(silenceMs !== undefined ? { silenceMs } : {}),
      logLevel: logger.level,
      ...(options.filter ? { filter: options.filter } : {}),
      ...(options.prepare ? { prepare: options.prepare } : {}),
      ...(options.builtHere?.length ? { builtHere: options.builtHere } : {}),
      ...(options.mask ? { mask: options.mask } : {}),
      ...(options.collations ? { collations: options.collations } : {}),
      ...(options.binlogRows ? { binlogRows: true } : {}),
      ...(options.replay ? { replay: options.replay } : {}),
      ...(options.relay ? { relay: options.relay } : {}),
    };
    // A thread that has loaded its modules already, if one was started ahead and fits (see spare-thread.ts).
    const { worker, startedAhead } = takeDecodeThread(options.largestRowBytes ?? 0);
    logger.debug({ startedAhead }, `decoding on ${startedAhead ? 'the thread started ahead' : 'a new thread'}`);
    this.worker = worker;
    const started = new Promise<void>((resolve, reject) => {
      let ready = false;
      const fail = (error: Error): void => {
        if (this.stopped) return;
        if (!ready) reject(error);
        else this.options.onError(error);
        this.stop();
      };
      worker.on('message', (message: FromDecodeThread) => {
        switch (message.type) {
          case 'ready':
            ready = true;
            resolve();
            return;
          case 'table':
            this.tables.set(message.id, message.table);
            return;
          case 'log': {
            const { level, msg, time: _time, pid: _pid, ...fields } = JSON.parse(message.line) as Record<string, unknown>;
            const log = logger[level as 'info'] as ((obj: object, msg?: string) => void) | undefined;
            log?.call(logger, fields, String(msg ?? ''));
            return;
          }
          case 'events':
            try {
              if (this.stopped) {
                // (Nothing after a stop is applied.)
              } else if (options.onEvents) {
                options.onEvents(new MessageEvents(new PackedReader(message.events, this.tableOf), this.finish), message.weight);
              } else {
                unpackEvents(message.events, this.tableOf, this.take);
              }
            } catch (error) {
              fail(error as Error);
            }
            // Taken in: the thread may decode that much more.
            this.worker?.postMessage({ type: 'ack', weight: message.weight } satisfies ToDecodeThread);
            return;
          case 'end':
            if (!this.stopped) this.options.onEnd?.();
            return;
          case 'error':
            fail(rebuildError(message.error));
        }
      });
      worker.on('error', (error) => {
        if ((error as { code?: string }).code !== 'ERR_WORKER_OUT_OF_MEMORY') return fail(error);
        // A value too large for the thread's heap: decode on the main thread for the rest of the run.
        options.capabilities.disable('decodeThread', 'the binlog decoding thread ran out of memory (a very large value); decoding on the main thread');
        if (ready) {
          // Events may be missing: the supervisor starts the session again from the durable position.
          fail(new errors.ConnectionError('the binlog decoding thread ran out of memory; restarting the stream decoded on the main thread'));
          return;
        }
        void worker.terminate();
        this.worker = undefined;
        this.fallback = new InLineStream(options);
        this.fallback.start().then(() => {
          ready = true;
          resolve();
        }, reject);
      });
      worker.on('exit', (code) => {
        // (Not when the thread was let go on purpose: stopped, or replaced after running out of memory.)
        if (code !== 0 && this.worker === worker) fail(new Error(`the binlog decoding thread stopped (exit code ${code})`));
      });
    });
    worker.postMessage({ type: 'init', init } satisfies ToDecodeThread);
    return started;
  }

  /** A table the thread sent, by its number. */
  private readonly tableOf = (id: number): TableDef => {
    const table = this.tables.get(id);
    if (!table) throw new Error(`rows event for a table the decoding thread never sent (${id})`);
    return table;
  };

  /** An event of a message: made again from its packed form, or as it travelled (see wire-codec.ts). */
  private readonly take = (event: SourceEvent | WireEvent, packed: boolean): void => {
    if (this.stopped) return;
    this.options.onEvent(packed ? (event as SourceEvent) : this.finish(event as WireEvent));
  };

  /** An event that travelled as an object, made whole: its table, and Buffers for its bytes. */
  private readonly finish = (wire: WireEvent): SourceEvent => {
    if (wire.type !== 'rows') {
      // (Bytes cross threads as plain Uint8Arrays.)
      return wire.type === 'format' ? { ...wire, event: asBuffer(wire.event) } : wire;
    }
    const table = this.tableOf(wire.table);
    // Byte values (and LOAD DATA files) cross threads as plain Uint8Arrays; the applier expects Buffers.
    // (Prepared events, and those of tables not replicated, carry no rows.)
    for (const row of wire.rows) {
      if (row.before) restoreBuffers(row.before);
      if (row.after) restoreBuffers(row.after);
    }
    const binlog = wire.binlog;
    if (binlog) {
      binlog.head = asBuffer(binlog.head);
      binlog.event = asBuffer(binlog.event);
    }
    for (const statement of wire.prepared?.statements ?? []) {
      if (statement.load) statement.load = asBuffer(statement.load);
      if (statement.blobs) statement.blobs = statement.blobs.map(asBuffer);
    }
    // (In place: the message's objects are this thread's own copies.)
    const event = wire as unknown as Extract<SourceEvent, { type: 'rows' }>;
    event.table = table;
    return event;
  };

  prepare(): void {
    this.worker?.postMessage({ type: 'prepare' } satisfies ToDecodeThread);
  }

  buildHere(table: string): void {
    this.worker?.postMessage({ type: 'build-here', table } satisfies ToDecodeThread);
  }

  pause(): void {
    this.fallback?.pause();
    this.worker?.postMessage({ type: 'pause' } satisfies ToDecodeThread);
  }

  resume(): void {
    this.fallback?.resume();
    this.worker?.postMessage({ type: 'resume' } satisfies ToDecodeThread);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.fallback?.stop();
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    worker.postMessage({ type: 'stop' } satisfies ToDecodeThread);
    // The thread closes its connection on 'stop'; terminating it makes sure it is gone.
    setTimeout(() => void worker.terminate(), 1000).unref();
  }
}

function restoreBuffers(values: unknown[]): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v instanceof Uint8Array) values[i] = asBuffer(v);
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The thread's error as the same class of ours, so the supervisor treats it alike (retry or stop). */
function rebuildError(error: { name: string; message: string; errno?: number; code?: string }): Error {
  const Class = (errors as Record<string, unknown>)[error.name];
  if (typeof Class === 'function' && Class.prototype instanceof errors.BinlogSyncError) {
    return new (Class as new (message: string) => Error)(error.message);
  }
  const plain = new Error(error.message) as Error & { errno?: number; code?: string };
  if (error.errno !== undefined) plain.errno = error.errno;
  if (error.code !== undefined) plain.code = error.code;
  return plain;
}
