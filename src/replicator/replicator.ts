// The long-running core of `binlog-sync start`: stream -> assemble -> apply ->
// record, one source transaction at a time, in source commit order. It starts
// once and stops once, through an AbortSignal.
import { hostname } from 'node:os';
import type { Endpoint } from '../config/connection-url.js';
import { describeEndpoint } from '../config/connection-url.js';
import { ApplyError, BinlogSyncError, StateError, StateLockedError, UnsupportedEventError, describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { compareFilePositions, formatPosition, type AppliedPosition, type BinlogPosition } from '../position.js';
import { ReplicaApplier, type ApplyContext } from '../apply/replica-applier.js';
import type { Checkpoint } from '../apply/checkpoint.js';
import { BinlogSource } from '../source/binlog-source.js';
import type { SourceEvent } from '../source/events.js';
import { assertReplicable, connectSource, gtidAtPosition, readSourceInfo, type SourceInfo } from '../source/source-server.js';
import { TransactionAssembler, type ApplyAction } from '../txn/assembler.js';
import { createFilter, type FilterSettings } from '../txn/filter.js';
import { isMariadbGtid } from '../txn/gtid-position.js';
import type { StateStore } from '../state/state-store.js';
import { EventQueue } from './event-queue.js';

export interface ReplicatorOptions {
  source: Endpoint;
  replica: Endpoint;
  serverId: number;
  filter: FilterSettings;
  state: StateStore;
  logger: Logger;
  signal: AbortSignal;
  /** How often progress is logged (default 10 s). */
  progressIntervalMs?: number;
}

export interface ReplicatorStats {
  transactions: number;
  rows: number;
  position: BinlogPosition | null;
}

const HEARTBEAT_MS = 1000;

/**
 * Runs until the signal aborts (resolves) or an error it cannot get past
 * (rejects; the error is recorded in the state with where it happened).
 */
export async function runReplicator(options: ReplicatorOptions): Promise<ReplicatorStats> {
  const { state, logger, signal } = options;
  state.acquireRunner({ pid: process.pid, hostname: hostname() });
  const stats: ReplicatorStats = { transactions: 0, rows: 0, position: null };
  let applier: ReplicaApplier | undefined;
  let source: BinlogSource | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    applier = await ReplicaApplier.open(options.replica, state.streamId, logger);
    logger.info({ replica: describeEndpoint(options.replica) }, 'connected to the replica');
    const start = reconcile(state, await applier.readCheckpoint(), logger);
    stats.position = start;

    const control = await connectSource(options.source);
    let info: SourceInfo;
    let gtidKnown = false;
    try {
      info = await readSourceInfo(control);
      assertReplicable(info);
      // Only MariaDB GTID positions are tracked per transaction (MySQL GTID
      // sets resume by file and offset instead).
      if (info.flavor === 'mariadb') {
        if (start.gtid !== null && (start.gtid === '' || isMariadbGtid(start.gtid))) gtidKnown = true;
        else if (start.file && start.position !== null) {
          const gtid = await gtidAtPosition(control, info, start.file, start.position);
          if (gtid !== null) {
            start.gtid = gtid;
            gtidKnown = true;
          }
        }
      }
      if (!start.file && !(gtidKnown && start.gtid)) {
        throw new StateError('the stored position has neither a binlog file nor a GTID; set one with `binlog-sync position set`');
      }
    } finally {
      await control.end().catch(() => undefined);
    }
    logger.info({ source: describeEndpoint(options.source), version: info.version, serverId: options.serverId }, 'connected to the source');

    state.addHistory({ event: 'start', file: start.file, position: start.position, gtid: start.gtid, detail: `pid ${process.pid}` });
    state.setLastError(null);
    logger.info({ file: start.file, position: start.position, gtid: start.gtid }, `replicating from ${formatPosition(start)}`);

    const assembler = new TransactionAssembler({ filter: createFilter(options.filter), start, gtidKnown });
    const queue = new EventQueue<SourceEvent>({ onHigh: () => source?.pause(), onLow: () => source?.resume() });
    source = new BinlogSource({
      endpoint: options.source,
      serverId: options.serverId,
      // GTID where there is a non-empty one: the server finds the file itself.
      start: gtidKnown && start.gtid && info.flavor === 'mariadb' ? { gtid: start.gtid } : { file: start.file, position: start.position },
      logger,
      onEvent: (event) => queue.push(event),
      onError: (error) => queue.fail(error),
    });
    await source.start();

    timers.push(setInterval(() => state.heartbeat(process.pid), HEARTBEAT_MS));
    let lastReport = { transactions: 0, rows: 0 };
    timers.push(
      setInterval(() => {
        if (stats.transactions === lastReport.transactions) return;
        logger.info(
          { transactions: stats.transactions, rows: stats.rows, ...stats.position },
          `applied ${stats.transactions - lastReport.transactions} transactions (${stats.rows - lastReport.rows} rows); at ${formatPosition(stats.position!)}`,
        );
        lastReport = { transactions: stats.transactions, rows: stats.rows };
      }, options.progressIntervalMs ?? 10_000),
    );

    await consume(queue, assembler, applier, state, stats, logger, signal);
    return stats;
  } catch (error) {
    if (error instanceof Error && !(error instanceof StateLockedError)) recordFailure(state, error, stats.position);
    throw error;
  } finally {
    for (const t of timers) clearInterval(t);
    source?.stop();
    await applier?.close();
    const at = state.getPosition();
    state.addHistory({ event: 'stop', file: at?.file ?? null, position: at?.position ?? null, gtid: at?.gtid ?? null, detail: null });
    state.releaseRunner(process.pid);
    logger.info({ ...(at ?? {}) }, `stopped at ${at ? formatPosition(at) : '(no position)'}`);
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
): Promise<void> {
  let context: ApplyContext = { gtid: null, file: stats.position?.file ?? null, position: stats.position?.position ?? null };
  for (;;) {
    const event = await queue.next(signal);
    if (event === undefined) return; // aborted: an open replica transaction is rolled back by close()
    for (const action of assembler.push(event)) {
      context = contextFor(action, context, event);
      await applyAction(action, applier, context, state, stats, logger);
      // Failures name the last good position: where the replica stands.
      if (action.type === 'commit' && stats.position) context = { ...context, position: stats.position.position };
    }
  }
}

function contextFor(action: ApplyAction, previous: ApplyContext, event: SourceEvent): ApplyContext {
  const file = 'file' in event && typeof event.file === 'string' ? event.file : previous.file;
  if (action.type === 'begin') return { gtid: action.gtid, file, position: previous.position };
  return { ...previous, file };
}

async function applyAction(
  action: ApplyAction,
  applier: ReplicaApplier,
  context: ApplyContext,
  state: StateStore,
  stats: ReplicatorStats,
  logger: Logger,
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
        `${action.sql.slice(0, 200)}; apply it on the replica by hand and move past it with \`binlog-sync position set\``,
    );
  }
  if (action.type === 'skipped-statement') {
    logger.debug({ ...context, reason: action.reason, sql: action.sql.slice(0, 200) }, 'statement not replicated');
    return;
  }
  const rowsBefore = applier.rowsApplied;
  const wrote = await applier.apply(action, context);
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
    stats.transactions += 1;
    stats.rows = applier.rowsApplied;
    logger.debug({ gtid: action.gtid, file: applied.file, position: applied.position, rows: applier.rowsApplied - rowsBefore }, 'committed');
  }
}

function recordFailure(state: StateStore, error: Error, position: BinlogPosition | null): void {
  const code = error instanceof BinlogSyncError ? error.code : 'INTERNAL';
  const location = error instanceof ApplyError ? error.location : undefined;
  state.setLastError({
    message: describeError(error),
    code,
    file: location?.file ?? position?.file ?? null,
    position: location?.position ?? position?.position ?? null,
    gtid: location?.gtid ?? null,
    table: location?.table ?? null,
    statement: location?.statement ?? null,
    at: new Date().toISOString(),
  });
  state.addHistory({
    event: 'error',
    file: position?.file ?? null,
    position: position?.position ?? null,
    gtid: position?.gtid ?? null,
    detail: describeError(error),
  });
}
