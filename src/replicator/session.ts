// One connected run of the replicator: open the replica, settle where to
// start, stream from the source and apply until the signal aborts or
// something fails. The supervisor (replicator.ts) decides what a failure
// means; everything a session holds is released when it ends.
import type { Endpoint } from '../config/connection-url.js';
import { describeEndpoint } from '../config/connection-url.js';
import { ConnectionError, StateError, isRetryable } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { compareFilePositions, formatPosition, type AppliedPosition, type BinlogPosition } from '../position.js';
import { ReplicaApplier, type ApplierOptions } from '../apply/replica-applier.js';
import type { Checkpoint } from '../apply/checkpoint.js';
import { openEventStream, type EventStream, type EventStreamOptions } from '../source/threaded-source.js';
import type { SourceEvent } from '../source/events.js';
import { weightOfBytes } from './event-weight.js';
import {
  assertReplicable,
  connectSource,
  measureClockOffset,
  readSourceInfo,
  showCreateTable,
  sourceSystemZone,
  type SourceInfo,
  type SystemZone,
} from '../source/source-server.js';
import { dropSpareThread, rememberSourcePacket, startSpareThread } from '../source/spare-thread.js';
import { connect, type Connection } from '../db/connect.js';
import type { StreamHealth } from '../health/stream-health.js';
import type { ReplicationMetrics } from '../health/metrics.js';
import { TransactionAssembler } from '../txn/assembler.js';
import { ApplyLoop } from './apply-loop.js';
import type { RunContext } from './run-context.js';
import { sqlModeNames } from '../source/status-vars.js';
import { createFilter, type FilterSettings } from '../txn/filter.js';
import type { StateStore } from '../state/state-store.js';
import { EventQueue } from './event-queue.js';
import { sessionQueue } from './session-queue.js';
import type { RunnerFence } from './fence.js';
import { resolveStreamStart } from './stream-start.js';
import type { MaskSettings } from '../mask/masker.js';
import { prepareStreamMasking, type StreamMasking } from '../mask/stream-masking.js';
import { readCollations, type Collations } from '../source/collations.js';
import { explainCollision } from '../mask/collision.js';
import { assertSameMasking, maskingRecord, parseRecord } from '../mask/record.js';
import { binlogIncompatibility } from '../apply/binlog-rows.js';
import { interruptedError } from '../apply/non-transactional.js';



export interface SessionOptions {
  /** Published to the state file every second for `status` (and to metrics). */
  health?: StreamHealth;
  /** Prometheus counters, when --metrics-port is set. */
  metrics?: ReplicationMetrics;
  source: Endpoint;
  replica: Endpoint;
  serverId: number;
  filter: FilterSettings;
  /** --definer: the DEFINER of replicated views, routines and events (default: the source's). */
  definer?: string | undefined;
  state: StateStore;
  logger: Logger;
  signal: AbortSignal;
  /** Heartbeat period asked of the source, in ms. */
  heartbeatMs?: number;
  /** --mask rules and key: rows are masked as they are decoded (see mask/). */
  mask?: MaskSettings;
}

export type { ReplicatorStats, RunContext } from './run-context.js';

/**
 * The replica applier's options of a session (`start`, `start --from`): the
 * run's mode and capabilities; a large batch on its way to the replica
 * counted as queued, so the stream waits for it; the SQL path's tables told
 * to the health; and a table the replica cannot roll back built here, by
 * the applier, from now on (see apply/non-transactional.ts).
 */
export function sessionApplierOptions(
  options: Pick<SessionOptions, 'state' | 'logger' | 'health'>,
  run: RunContext,
  queue: () => EventQueue<SourceEvent> | undefined,
  stream: () => EventStream | undefined,
): ApplierOptions {
  const { health } = options;
  return {
    streamId: options.state.streamId,
    logger: options.logger,
    mode: run.mode,
    capabilities: run.capabilities,
    onLargeInFlight: (bytes: number): void => queue()?.adjust(Math.sign(bytes) * weightOfBytes(Math.abs(bytes))),
    ...(health ? { onSqlPath: (table: string) => health.sqlPath(table) } : {}),
    onNonTransactional: (table: string) => {
      if (run.nonTransactional.has(table)) return;
      run.nonTransactional.add(table);
      stream()?.buildHere(table);
    },
  };
}

/** What a session's event stream is opened with besides where it reads (`start`, `start --from`). */
export function sessionStreamOptions(
  options: Pick<SessionOptions, 'filter' | 'mask'>,
  run: RunContext,
  applier: ReplicaApplier,
  largestRowBytes: number,
  collations: Collations,
): Pick<EventStreamOptions, 'filter' | 'prepare' | 'builtHere' | 'capabilities' | 'largestRowBytes' | 'mask' | 'collations' | 'binlogRows'> {
  return {
    filter: options.filter,
    // Statements built beside the apply loop, except while it applies carefully (after a failure).
    prepare: { ...applier.batchingOptions, now: run.mode.grouped },
    builtHere: [...run.nonTransactional],
    capabilities: run.capabilities,
    largestRowBytes,
    ...(options.mask ? { mask: options.mask } : {}),
    collations,
    binlogRows: run.capabilities.binlogStatements,
  };
}

/** Past the transactions to apply carefully, statements may be built ahead again: the stream is told. Returns the unsubscribe. */
export function prepareWhenGrouped(run: RunContext, stream: EventStream): () => void {
  return run.mode.onChange((state) => {
    if (state.kind === 'grouped') stream.prepare();
  });
}

/** Runs one session; resolves when the signal aborts, rejects on any failure. */
export async function runSession(options: SessionOptions, run: RunContext): Promise<void> {
  const { state, logger, signal } = options;
  const { fence, capabilities, stats } = run;
  let applier: ReplicaApplier | undefined;
  let source: EventStream | undefined;
  let queue: EventQueue<SourceEvent> | undefined;
  let stopListening = (): void => undefined;
  // The decoding thread loads its modules while this session connects (see spare-thread.ts).
  if (capabilities.decodeThread) startSpareThread(state);
  else dropSpareThread();
  // The source is asked what the session needs of it while the replica is opened: neither waits for the other.
  let sourceSide: Promise<SourceSide> | undefined = openSourceSide(options);
  // (A failure of the replica's side is reported first, as when one followed the other; the source's is then dropped.)
  sourceSide.catch(() => undefined);
  try {
    const opening = ReplicaApplier.open(
      options.replica,
      sessionApplierOptions(options, run, () => queue, () => source),
    );
    applier = await asConnectionError(opening, 'replica', options.replica);
    logger.info({ replica: describeEndpoint(options.replica) }, 'connected to the replica');
    // Claimed with our epoch: from now on only our commits carry the stream's checkpoint.
    const stored = reconcile(fence, await applier.claim(fence.lease.epoch), logger);
    stats.position = stored;
    // The transaction after it changed a table that cannot roll back, and was interrupted: never applied twice.
    const mark = await applier.nonTransactionalMark();
    if (mark !== null) throw interruptedError(mark, stored);
    // Rows masked one way must not meet rows masked another way (or not at all).
    assertSameMasking(parseRecord(await applier.recordedMasking()), maskingRecord(options.mask ?? { rules: [] }));

    const { control, info, masking, collations, clockOffsetMs, systemZone } = await sourceSide;
    sourceSide = undefined; // (ours to close now)
    const flavor = info.flavor;
    const sourcePacket = Number(info.variables.max_allowed_packet) || 0;
    let resolved;
    try {
      resolved = await resolveStreamStart(control, info, stored);
      if (options.health && clockOffsetMs !== undefined) options.health.clockOffsetMs = clockOffsetMs;
      applier.sourceSystemZone = systemZone;
      logger.info({ source: describeEndpoint(options.source), version: info.version, serverId: options.serverId }, 'connected to the source');
      // The next `start` sizes its spare decoding thread by it (a runner that lost the file writes nothing to it).
      if (!fence.lost) rememberSourcePacket(state, sourcePacket);
      await applier.fitPacketLimit(sourcePacket);
      const incompatible = binlogIncompatibility(info, { flavor: applier.flavorName, version: applier.version });
      if (incompatible) applier.disableBinlogStatements(incompatible);
    } finally {
      await control.end().catch(() => undefined);
    }
    const start = resolved.position;

    const assembler = new TransactionAssembler({
      filter: createFilter(options.filter),
      start,
      gtidKnown: resolved.gtidKnown,
      gtidFlavor: resolved.gtidFlavor,
      definer: options.definer,
    });
    const { events, feed } = sessionQueue({ stream: () => source, health: options.health, holdLargeRows: true });
    queue = events;
    source = openEventStream({
      endpoint: options.source,
      serverId: options.serverId,
      start: resolved.stream,
      logger,
      ...feed,
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
      ...sessionStreamOptions(options, run, applier, sourcePacket, collations),
    });
    stopListening = prepareWhenGrouped(run, source);
    await source.start();
    logger.info(
      {
        file: start.file,
        position: start.position,
        gtid: start.gtid,
        rowApplier: capabilities.binlogStatements ? 'binlog' : 'sql',
        // How long the process took to stream (ms since it started): on the run's first session only.
        // (And the CPU it spent on that, both threads: what start-up costs on a busy machine.)
        ...(run.streamed ? {} : { startupMs: Math.round(performance.now()), startupCpuMs: Math.round(cpuMs()) }),
      },
      `replicating from ${formatPosition(start)}; row events applied ${capabilities.binlogStatements ? "by the replica's own row code (BINLOG statements; tables with masked columns as SQL statements)" : 'as SQL statements'}`,
    );
    // Streaming again: whatever stopped the previous run is behind us.
    if (!run.streamed) state.setLastError(null);
    run.streamed = true;
    run.events.emit('streaming', { position: start });
    options.health?.setStreaming(true);
    // Publish at once: `status` right after start-up should not wait for the next liveness tick.
    if (options.health) fence.heartbeat(options.health.snapshot());
    // A connection of its own, for the rare statement that needs the source's view of a table.
    const readDefinition = async (table: { database: string; table: string }, sqlMode: bigint | undefined): Promise<string> => {
      const conn = await asConnectionError(connectSource(options.source), 'source', options.source);
      try {
        return await showCreateTable(conn, table.database, table.table, sqlMode === undefined ? undefined : sqlModeNames(sqlMode, flavor));
      } finally {
        await conn.end().catch(() => undefined);
      }
    };
    const loopOptions = { queue: events, assembler, applier, source, run, logger, health: options.health, metrics: options.metrics, readDefinition };
    await new ApplyLoop(loopOptions).loop(signal).catch((error: unknown) => {
      // A duplicate key on a masked column is a masking collision, not drift.
      throw explainCollision(error, masking.maskedOnReplica);
    });
  } finally {
    if (sourceSide) void sourceSide.then((side) => side.control.end().catch(() => undefined), () => undefined);
    stopListening();
    options.health?.setStreaming(false);
    options.health?.watchQueue(null);
    source?.stop();
    await applier?.close();
  }
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** What a session learns from the source before it streams, and the connection it asked on (open). */
export interface SourceSide {
  control: Connection;
  info: SourceInfo;
  masking: StreamMasking;
  /** What each collation id in a table map is (see source/collations.ts). */
  collations: Collations;
  /** Measured when the session publishes its health. */
  clockOffsetMs: number | undefined;
  systemZone: SystemZone;
}

/**
 * The part of the set-up that needs nothing from the replica (the stream's
 * start does: the stored position comes from it). Closes its connection
 * when it fails.
 */
export async function openSourceSide(options: SessionOptions): Promise<SourceSide> {
  const control = await connectSource(options.source);
  try {
    const info = await asConnectionError(readSourceInfo(control), 'source', options.source);
    assertReplicable(info);
    const masking = await prepareStreamMasking(control, options.mask, options.filter);
    const collations = await readCollations(control);
    const clockOffsetMs = options.health ? await measureClockOffset(control) : undefined;
    const systemZone = await sourceSystemZone(control);
    return { control, info, masking, collations, clockOffsetMs, systemZone };
  } catch (error) {
    await control.end().catch(() => undefined);
    throw error;
  }
}

/** Turns transient driver errors of a set-up step into ConnectionError (retryable, with a message). */
export async function asConnectionError<T>(promise: Promise<T>, role: string, endpoint: Endpoint): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (isRetryable(error) && !(error instanceof ConnectionError)) {
      throw new ConnectionError(`lost the ${role} ${describeEndpoint(endpoint)}: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * Where to start: the replica's checkpoint when it is ahead of the SQLite
 * mirror (a crash between the replica commit and the mirror write), else the
 * mirror (which alone moves past transactions that touched nothing of ours).
 */
export function reconcile(fence: RunnerFence, checkpoint: Checkpoint | null, logger: Logger): BinlogPosition {
  const { state } = fence;
  const stored = state.getPosition();
  if (!stored && !checkpoint) {
    throw new StateError(
      'no start position: run `binlog-sync position set --current` (or --file/--pos, --gtid) or `binlog-sync snapshot` first',
    );
  }
  if (checkpoint && (!stored || replicaIsAhead(checkpoint, stored))) {
    const { pendingDdl: _pending, ...position } = checkpoint;
    fence.savePosition(position);
    fence.check();
    state.addHistory({ event: 'reconcile', file: position.file, position: position.position, gtid: position.gtid, detail: 'replica checkpoint was ahead' });
    logger.info({ ...position }, 'the replica had applied more than the state file recorded; continuing from the replica');
    return { file: position.file, position: position.position, gtid: position.gtid };
  }
  return { file: stored!.file, position: stored!.position, gtid: stored!.gtid };
}

function replicaIsAhead(checkpoint: AppliedPosition, stored: AppliedPosition): boolean {
  const order = compareFilePositions(checkpoint, stored);
  if (order !== null) return order > 0;
  // Not comparable by file: trust the replica unless it is the very same position.
  return checkpoint.gtid !== stored.gtid;
}

/** The replica's collations, for a stream whose source is not connected to (files, or a relay's stream). */
export async function replicaCollations(replica: Endpoint): Promise<Awaited<ReturnType<typeof readCollations>>> {
  const conn = await asConnectionError(connect(replica, 'replica'), 'replica', replica);
  try {
    return await readCollations(conn);
  } finally {
    await conn.end().catch(() => undefined);
  }
}
