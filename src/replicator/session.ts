// One connected run of the replicator: open the replica, settle where to
// start, stream from the source and apply until the signal aborts or
// something fails. The supervisor (replicator.ts) decides what a failure
// means; everything a session holds is released when it ends.
import type { Endpoint } from '../config/connection-url.js';
import { describeEndpoint } from '../config/connection-url.js';
import { ConnectionError, StateError, UnsupportedEventError, isRetryable } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { compareFilePositions, formatPosition, type AppliedPosition, type BinlogPosition } from '../position.js';
import { ReplicaApplier, type ApplyContext } from '../apply/replica-applier.js';
import type { Checkpoint } from '../apply/checkpoint.js';
import { BinlogSource } from '../source/binlog-source.js';
import type { SourceEvent } from '../source/events.js';
import { assertReplicable, connectSource, measureClockOffset, readSourceInfo } from '../source/source-server.js';
import type { StreamHealth } from '../health/stream-health.js';
import type { ReplicationMetrics } from '../health/metrics.js';
import { TransactionAssembler, type ApplyAction } from '../txn/assembler.js';
import { createFilter, type FilterSettings } from '../txn/filter.js';
import type { StateStore } from '../state/state-store.js';
import { EventQueue } from './event-queue.js';
import { resolveStreamStart } from './stream-start.js';

export interface SessionOptions {
  /** Published to the state file every second for `status` (and to metrics). */
  health?: StreamHealth;
  /** Prometheus counters, when --metrics-port is set. */
  metrics?: ReplicationMetrics;
  source: Endpoint;
  replica: Endpoint;
  serverId: number;
  filter: FilterSettings;
  state: StateStore;
  logger: Logger;
  signal: AbortSignal;
  /** Heartbeat period asked of the source, in ms. */
  heartbeatMs?: number;
}

export interface ReplicatorStats {
  transactions: number;
  rows: number;
  position: BinlogPosition | null;
  /** The session reached the point of streaming (so a later failure is a fault, not bad set-up). */
  streamed: boolean;
  /** The applier's row count at the last commit (rows of the next transaction are counted from it). */
  rowsAtLastCommit: number;
  /** When the transaction being applied began (performance.now()). */
  transactionStartedAt: number;
}

/** Runs one session; resolves when the signal aborts, rejects on any failure. */
export async function runSession(options: SessionOptions, stats: ReplicatorStats): Promise<void> {
  const { state, logger, signal } = options;
  let applier: ReplicaApplier | undefined;
  let source: BinlogSource | undefined;
  try {
    applier = await asConnectionError(ReplicaApplier.open(options.replica, state.streamId, logger), 'replica', options.replica);
    stats.rowsAtLastCommit = 0;
    logger.info({ replica: describeEndpoint(options.replica) }, 'connected to the replica');
    const stored = reconcile(state, await applier.readCheckpoint(), logger);
    stats.position = stored;

    const control = await connectSource(options.source);
    let resolved;
    try {
      const info = await asConnectionError(readSourceInfo(control), 'source', options.source);
      assertReplicable(info);
      resolved = await resolveStreamStart(control, info, stored);
      if (options.health) options.health.clockOffsetMs = await measureClockOffset(control);
      logger.info({ source: describeEndpoint(options.source), version: info.version, serverId: options.serverId }, 'connected to the source');
    } finally {
      await control.end().catch(() => undefined);
    }
    const start = resolved.position;

    const assembler = new TransactionAssembler({ filter: createFilter(options.filter), start, gtidKnown: resolved.gtidKnown });
    const queue = new EventQueue<SourceEvent>({
      onHigh: () => source?.pause(),
      onLow: () => source?.resume(),
      // Weighed by rows, so memory stays bounded however large the events are.
      weight: (event) => (event.type === 'rows' ? event.rows.length : 1),
    });
    source = new BinlogSource({
      endpoint: options.source,
      serverId: options.serverId,
      start: resolved.stream,
      logger,
      onEvent: (event) => {
        options.health?.observe(event);
        queue.push(event);
      },
      onError: (error) => queue.fail(error),
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
    });
    await source.start();
    logger.info({ file: start.file, position: start.position, gtid: start.gtid }, `replicating from ${formatPosition(start)}`);
    // Streaming again: whatever stopped the previous run is behind us.
    if (!stats.streamed) state.setLastError(null);
    stats.streamed = true;
    options.health?.setStreaming(true);
    await consume(queue, assembler, applier, state, stats, logger, signal, options.health, options.metrics);
  } finally {
    options.health?.setStreaming(false);
    source?.stop();
    await applier?.close();
  }
}

/** Turns transient driver errors of a set-up step into ConnectionError (retryable, with a message). */
async function asConnectionError<T>(promise: Promise<T>, role: string, endpoint: Endpoint): Promise<T> {
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
function reconcile(state: StateStore, checkpoint: Checkpoint | null, logger: Logger): BinlogPosition {
  const stored = state.getPosition();
  if (!stored && !checkpoint) {
    throw new StateError(
      'no start position: run `binlog-sync position set --current` (or --file/--pos, --gtid) or `binlog-sync snapshot` first',
    );
  }
  if (checkpoint && (!stored || replicaIsAhead(checkpoint, stored))) {
    const { pendingDdl: _pending, ...position } = checkpoint;
    state.savePosition(position);
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

async function consume(
  queue: EventQueue<SourceEvent>,
  assembler: TransactionAssembler,
  applier: ReplicaApplier,
  state: StateStore,
  stats: ReplicatorStats,
  logger: Logger,
  signal: AbortSignal,
  health: StreamHealth | undefined,
  metrics: ReplicationMetrics | undefined,
): Promise<void> {
  let context: ApplyContext = { gtid: null, file: stats.position?.file ?? null, position: stats.position?.position ?? null };
  for (;;) {
    const event = await queue.next(signal);
    if (event === undefined) return; // aborted: an open replica transaction is rolled back by close()
    for (const action of assembler.push(event)) {
      context = contextFor(action, context, event);
      await applyAction(action, applier, context, state, stats, logger, metrics);
      // Failures name the last good position: where the replica stands.
      if (action.type === 'commit' && stats.position) context = { ...context, position: stats.position.position, file: stats.position.file };
    }
    if (queue.length === 0 && !applier.inTransaction) health?.settled();
  }
}

function contextFor(action: ApplyAction, previous: ApplyContext, event: SourceEvent): ApplyContext {
  if (action.type === 'begin') return { ...previous, gtid: action.gtid };
  return previous.file === null && 'file' in event && typeof event.file === 'string' ? { ...previous, file: event.file } : previous;
}

async function applyAction(
  action: ApplyAction,
  applier: ReplicaApplier,
  context: ApplyContext,
  state: StateStore,
  stats: ReplicatorStats,
  logger: Logger,
  metrics: ReplicationMetrics | undefined,
): Promise<void> {
  if (action.type === 'unsupported') {
    throw new UnsupportedEventError(
      `the source wrote an event binlog-sync cannot apply faithfully (${action.what}) at ${action.file}:${action.position}; ` +
        'see `binlog-sync check` for the source setting to change',
    );
  }
  if (action.type === 'unparsable-statement') {
    throw new UnsupportedEventError(
      `cannot tell which tables this statement at ${context.file ?? '?'}:${context.position ?? '?'} changes (${action.reason}): ` +
        `${action.sql.slice(0, 200)}; apply it on the replica by hand, then \`binlog-sync skip\``,
    );
  }
  if (action.type === 'skipped-statement') {
    logger.debug({ ...context, reason: action.reason, sql: action.sql.slice(0, 200) }, 'statement not replicated');
    return;
  }
  if (action.type === 'begin') stats.transactionStartedAt = performance.now();
  const wrote = await applier.apply(action, context);
  if (action.type === 'rows') {
    const { table, kind, rows } = action.change;
    metrics?.rowsApplied(`${table.database}.${table.table}`, kind, rows.length);
  }
  if (action.type !== 'commit') return;
  const applied: AppliedPosition = {
    file: action.position.file ?? stats.position?.file ?? null,
    position: action.position.position ?? stats.position?.position ?? null,
    gtid: action.position.gtid,
    appliedAt: new Date().toISOString(),
    sourceTimestamp: action.timestamp,
  };
  state.savePosition(applied);
  stats.position = applied;
  if (wrote) {
    const rows = applier.rowsApplied - stats.rowsAtLastCommit;
    stats.transactions += 1;
    stats.rows += rows;
    metrics?.transactionApplied((performance.now() - stats.transactionStartedAt) / 1000);
    logger.debug({ gtid: action.gtid, file: applied.file, position: applied.position, rows }, 'committed');
  }
  stats.rowsAtLastCommit = applier.rowsApplied;
}
