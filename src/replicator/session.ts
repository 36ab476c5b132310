// One connected run of the replicator: open the replica, settle where to
// start, stream from the source and apply until the signal aborts or
// something fails. The supervisor (replicator.ts) decides what a failure
// means; everything a session holds is released when it ends.
import type { Endpoint } from '../config/connection-url.js';
import { describeEndpoint } from '../config/connection-url.js';
import { CarefulRetryError, ConnectionError, FencedError, StateError, UnsupportedEventError, isRetryable } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { compareFilePositions, formatPosition, type AppliedPosition, type BinlogPosition } from '../position.js';
import { ReplicaApplier, type ApplyContext } from '../apply/replica-applier.js';
import type { Checkpoint } from '../apply/checkpoint.js';
import { openEventStream, type EventStream } from '../source/threaded-source.js';
import { rowCount, type SourceEvent } from '../source/events.js';
import { eventWeight, weightOfBytes } from './event-weight.js';
import { assertReplicable, connectSource, measureClockOffset, readSourceInfo, showCreateTable, sourceSystemZone } from '../source/source-server.js';
import type { StreamHealth } from '../health/stream-health.js';
import type { ReplicationMetrics } from '../health/metrics.js';
import { APPLY_BY_HAND, LIKE_SOURCE_TABLE, TransactionAssembler, lexerOptions, type ApplyAction } from '../txn/assembler.js';
import { replaceCreateTableName } from '../txn/ddl.js';
import { quoteIdentifier } from '../sql/identifiers.js';
import { sqlModeNames } from '../source/status-vars.js';
import { createFilter, type FilterSettings } from '../txn/filter.js';
import type { StateStore } from '../state/state-store.js';
import { EventQueue } from './event-queue.js';
import type { ApplyMode } from '../apply/apply-mode.js';
import type { RunCapabilities } from '../capabilities.js';
import type { RunnerFence } from './fence.js';
import { resolveStreamStart } from './stream-start.js';
import type { MaskSettings } from '../mask/masker.js';
import { prepareStreamMasking, type StreamMasking } from '../mask/stream-masking.js';
import { explainCollision } from '../mask/collision.js';
import { assertSameMasking, maskingRecord, parseRecord } from '../mask/record.js';
import { binlogIncompatibility } from '../apply/binlog-rows.js';

/**
 * Queue weights at which the stream is paused and resumed. Deeper queues
 * were measured to buy no speed, only memory.
 */
const QUEUE_HIGH = 10_000;
const QUEUE_LOW = 1_000;

/** A rows event from this size is a large row: held back from the stream until applied (see EventQueue.held). */
const LARGE_ROW_BYTES = 8 * 1024 * 1024;

/** How long the apply loop may run before it lets I/O callbacks in. */
const YIELD_EVERY_MS = 1;

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

/** Public progress of a run: what `onProgress` and the logs report. */
export interface ReplicatorStats {
  transactions: number;
  rows: number;
  position: BinlogPosition | null;
}

/** What one run of the replicator carries from session to session (owned by the replicator). */
export interface RunContext {
  readonly fence: RunnerFence;
  /** Grouped, or careful for the next n transactions after a failure: changed by the apply loop only. */
  readonly mode: ApplyMode;
  readonly capabilities: RunCapabilities;
  readonly stats: ReplicatorStats;
  /** A session reached the point of streaming (so a later failure is a fault, not bad set-up). */
  streamed: boolean;
}

/** Runs one session; resolves when the signal aborts, rejects on any failure. */
export async function runSession(options: SessionOptions, run: RunContext): Promise<void> {
  const { state, logger, signal } = options;
  const { fence, mode, capabilities, stats } = run;
  let applier: ReplicaApplier | undefined;
  let source: EventStream | undefined;
  let queue: EventQueue<SourceEvent> | undefined;
  let stopListening = (): void => undefined;
  try {
    // A large batch on its way to the replica counts as queued: the stream waits for it (see the applier).
    const onLargeInFlight = (bytes: number): void => queue?.adjust(Math.sign(bytes) * weightOfBytes(Math.abs(bytes)));
    const opening = ReplicaApplier.open(options.replica, { streamId: state.streamId, logger, mode, capabilities, onLargeInFlight });
    applier = await asConnectionError(opening, 'replica', options.replica);
    logger.info({ replica: describeEndpoint(options.replica) }, 'connected to the replica');
    // Claimed with our epoch: from now on only our commits carry the stream's checkpoint.
    const stored = reconcile(fence, await applier.claim(fence.lease.epoch), logger);
    stats.position = stored;
    // Rows masked one way must not meet rows masked another way (or not at all).
    assertSameMasking(parseRecord(await applier.recordedMasking()), maskingRecord(options.mask ?? { rules: [] }));

    const control = await connectSource(options.source);
    let masking: StreamMasking = { maskedOnReplica: [] };
    let resolved;
    let flavor: 'mariadb' | 'mysql' = 'mariadb';
    let sourcePacket = 0;
    try {
      const info = await asConnectionError(readSourceInfo(control), 'source', options.source);
      flavor = info.flavor;
      assertReplicable(info);
      masking = await prepareStreamMasking(control, options.mask, options.filter);
      resolved = await resolveStreamStart(control, info, stored);
      if (options.health) options.health.clockOffsetMs = await measureClockOffset(control);
      applier.sourceSystemZone = await sourceSystemZone(control);
      logger.info({ source: describeEndpoint(options.source), version: info.version, serverId: options.serverId }, 'connected to the source');
      sourcePacket = Number(info.variables.max_allowed_packet) || 0;
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
      definer: options.definer,
    });
    const events = new EventQueue<SourceEvent>({
      onHigh: () => source?.pause(),
      onLow: () => source?.resume(),
      // Weighed by rows, and by bytes for large rows (4 KiB count as a row), so
      // memory stays bounded however many or large the rows are.
      high: QUEUE_HIGH,
      low: QUEUE_LOW,
      weight: eventWeight,
      // A large row still counts once taken, until the applier holds its statement instead (see the applier).
      held: (event) => (event.type === 'rows' && event.bytes >= LARGE_ROW_BYTES ? weightOfBytes(event.bytes) : 0),
    });
    queue = events;
    source = openEventStream({
      endpoint: options.source,
      serverId: options.serverId,
      start: resolved.stream,
      logger,
      onEvent: (event) => {
        options.health?.observe(event);
        events.push(event);
      },
      onError: (error) => events.fail(error),
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
      filter: options.filter,
      // Statements built beside the apply loop, except while it applies carefully (after a failure).
      prepare: { ...applier.batchingOptions, now: mode.grouped },
      capabilities,
      largestRowBytes: sourcePacket,
      ...(options.mask ? { mask: options.mask } : {}),
      ...(masking.collations ? { collations: masking.collations } : {}),
      binlogRows: capabilities.binlogStatements,
    });
    const stream = source;
    stopListening = mode.onChange((state) => {
      // Past the transactions to apply carefully: statements may be built ahead again.
      if (state.kind === 'grouped') stream.prepare();
    });
    await source.start();
    logger.info(
      { file: start.file, position: start.position, gtid: start.gtid, rowApplier: capabilities.binlogStatements ? 'binlog' : 'sql' },
      `replicating from ${formatPosition(start)}; row events applied ${capabilities.binlogStatements ? "by the replica's own row code (BINLOG statements; tables with masked columns as SQL statements)" : 'as SQL statements'}`,
    );
    // Streaming again: whatever stopped the previous run is behind us.
    if (!run.streamed) state.setLastError(null);
    run.streamed = true;
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
    stopListening();
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
function reconcile(fence: RunnerFence, checkpoint: Checkpoint | null, logger: Logger): BinlogPosition {
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

/**
 * Feeds events through the assembler to the applier, one source transaction
 * at a time and in order. While more events wait in the queue, consecutive
 * source transactions share one replica commit (a group: never a part of a
 * transaction, the position of the last one committed with them). The
 * applier pipelines: it commits in the background while this loop goes on,
 * and reports each commit once durable; only then is its position mirrored
 * to the state file. A group is sealed as soon as the queue runs dry, a DDL
 * comes, or the group is full.
 */
interface ApplyLoopOptions {
  queue: EventQueue<SourceEvent>;
  assembler: TransactionAssembler;
  applier: ReplicaApplier;
  source: EventStream;
  run: RunContext;
  logger: Logger;
  health: StreamHealth | undefined;
  metrics: ReplicationMetrics | undefined;
  /** The source's CREATE TABLE of a table, under a statement's sql_mode. */
  readDefinition: (table: { database: string; table: string }, sqlMode: bigint | undefined) => Promise<string>;
}

type DdlAction = Extract<ApplyAction, { type: 'ddl' }>;

/** A statement on one line, shortened for messages and logs. */
function oneLine(sql: string): string {
  const line = sql.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

class ApplyLoop {
  private context: ApplyContext;
  /** Position of the last transaction handed to the applier (durable or not yet). */
  private last: AppliedPosition | null = null;
  /** When the transaction being applied began (performance.now()), for its duration metric. */
  private transactionStartedAt = 0;
  private readonly queue: EventQueue<SourceEvent>;
  private readonly assembler: TransactionAssembler;
  private readonly applier: ReplicaApplier;
  private readonly run: RunContext;
  private readonly logger: Logger;
  private readonly health: StreamHealth | undefined;
  private readonly metrics: ReplicationMetrics | undefined;
  private readonly readDefinition: ApplyLoopOptions['readDefinition'];

  constructor(options: ApplyLoopOptions) {
    ({ queue: this.queue, assembler: this.assembler, applier: this.applier, run: this.run, logger: this.logger } = options);
    this.health = options.health;
    this.metrics = options.metrics;
    this.readDefinition = options.readDefinition;
    const at = this.run.stats.position;
    this.context = { gtid: null, file: at?.file ?? null, position: at?.position ?? null };
  }

  async loop(signal: AbortSignal): Promise<void> {
    let yielded = performance.now();
    for (;;) {
      // While events are queued, this loop runs on promise callbacks alone and
      // would keep the event loop from reading the replica's answers (and so
      // the driver from sending it the next batch). Let I/O in every millisecond.
      if (performance.now() - yielded > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        yielded = performance.now();
      }
      const event = await this.queue.next(signal);
      // Another runner took over: commit nothing more (closing the session rolls back what is open).
      this.run.fence.check();
      if (event === undefined) {
        // A graceful stop keeps what the group applied (unless a transaction is
        // half applied: then closing the session rolls the group back).
        await this.settle();
        return;
      }
      try {
        for (const action of this.assembler.push(event)) {
          if (action.type === 'begin') this.context = { ...this.context, gtid: action.gtid };
          else if (this.context.file === null && 'file' in event && typeof event.file === 'string') this.context = { ...this.context, file: event.file };
          await this.apply(action);
        }
      } finally {
        // (Held from when it was taken: see EventQueue.held.)
        this.queue.release(event);
      }
      if (this.queue.length === 0) {
        // Seals the group, unless the queue ran dry in the middle of a transaction.
        await this.guard(this.applier.flush());
        if (!this.applier.inTransaction) {
          await this.guard(this.applier.idle());
          if (this.queue.length === 0) this.health?.settled();
        }
      }
    }
  }

  /** Seals the open group and waits until everything is durable. */
  private async settle(): Promise<void> {
    await this.guard(this.applier.flush());
    await this.guard(this.applier.idle());
  }

  /** Before a stop on the current transaction: the groups before it must be durable, or replayed alone. */
  private async flushOrAbort(): Promise<void> {
    await this.settle();
    if (this.applier.deferred > 0) await this.fail(new Error('a group could not be committed before a failing transaction'));
  }

  /** Runs an applier step; a failure ends the session (see fail). */
  private async guard<T>(step: Promise<T>): Promise<T> {
    try {
      return await step;
    } catch (error) {
      return this.fail(error);
    }
  }

  /**
   * Undoes the failed replica transaction and everything after it. A failure
   * in a group of several source transactions makes the next session apply
   * them one by one (careful mode), so the failing one stands alone with an
   * exact error and position.
   */
  private async fail(cause: unknown): Promise<never> {
    const transactions = this.applier.failed?.transactions ?? this.applier.deferred + 1;
    await this.applier.rollback().catch(() => undefined);
    if (cause instanceof FencedError) throw cause;
    if (transactions <= 1 && !(cause instanceof CarefulRetryError)) throw cause;
    this.run.mode.carefulFor(Math.max(transactions, 1));
    if (cause instanceof CarefulRetryError) throw cause;
    throw new CarefulRetryError(`a transaction in a group of ${transactions} failed; applying them one at a time`, { cause });
  }

  private recordDurable(applied: AppliedPosition): void {
    this.run.fence.savePosition(applied);
    this.run.stats.position = applied;
    // Failures name the last durable position: where the replica stands.
    this.context = { ...this.context, position: applied.position, file: applied.file };
  }

  private async apply(action: ApplyAction): Promise<void> {
    switch (action.type) {
      case 'unsupported':
        await this.flushOrAbort(); // so the failing transaction is the first after the recorded position
        throw new UnsupportedEventError(
          `the source wrote an event binlog-sync cannot apply faithfully (${action.what}) at ${action.file}:${action.position}; ` +
            'see `binlog-sync check` for the source setting to change',
        );
      case 'refused-statement': {
        await this.flushOrAbort();
        const { file, position, gtid } = this.context;
        const at = `${gtid ? `GTID ${gtid}, ` : ''}after ${file ?? '?'}:${position ?? '?'}`;
        // One line: the statement's own line breaks would split the message.
        throw new UnsupportedEventError(`stopped at the statement at ${at} (${action.reason}): ${oneLine(action.sql)}; ${action.remedy}`);
      }
      case 'skipped-statement':
        // At info: a statement left out is a decision the operator may want to check.
        this.logger.info({ ...this.context, reason: action.reason, sql: oneLine(action.sql) }, 'statement not replicated');
        return;
      case 'commit':
        return this.commit(action);
      case 'ddl':
        await this.flushOrAbort(); // DDL commits implicitly: no group may be open
        if (action.likeSource) action = await this.withLikeSource(action);
        break;
      case 'xa-end':
        await this.flushOrAbort(); // XA COMMIT and ROLLBACK run with no transaction open
        break;
      case 'begin':
        this.transactionStartedAt = performance.now();
        // An XA transaction is a replica transaction of its own.
        if (action.xa !== undefined) await this.flushOrAbort();
        break;
      case 'rows': {
        const { table, kind } = action.change;
        this.metrics?.rowsApplied(`${table.database}.${table.table}`, kind, rowCount(action.change));
        break;
      }
    }
    await this.guard(this.applier.apply(action, this.context));
  }

  /**
   * CREATE TABLE ... LIKE a table the replica does not have: first create a
   * copy of it (LIKE_SOURCE_TABLE) from the definition the source has now,
   * so that the server itself decides what LIKE copies (no foreign keys, no
   * AUTO_INCREMENT counter). The race: the definition is read when the
   * statement is applied, not when the source ran it; if the LIKE source was
   * altered in between (later in the binlog), the new table gets the later
   * definition. Lag widens the window; it is empty when replication is live.
   */
  private async withLikeSource(action: DdlAction): Promise<DdlAction> {
    const like = action.likeSource!;
    let definition: string;
    try {
      definition = await this.readDefinition(like, action.sqlMode);
    } catch (error) {
      if (isRetryable(error)) throw error;
      throw new UnsupportedEventError(
        `stopped at the statement at after ${this.context.file ?? '?'}:${this.context.position ?? '?'}: cannot read the definition of ` +
          `${like.database}.${like.table} (the source of its LIKE) from the source (${(error as Error).message}): ${oneLine(action.sql)}; ${APPLY_BY_HAND}`,
        { cause: error },
      );
    }
    const copy = replaceCreateTableName(definition, 'created', LIKE_SOURCE_TABLE, lexerOptions(action.sqlMode));
    if (copy === undefined) throw new UnsupportedEventError(`${like.database}.${like.table} is not a table on the source: ${oneLine(action.sql)}; ${APPLY_BY_HAND}`);
    const helper = `${quoteIdentifier(LIKE_SOURCE_TABLE.database)}.${quoteIdentifier(LIKE_SOURCE_TABLE.table)}`;
    return { ...action, before: [`DROP TABLE IF EXISTS ${helper}`, copy, ...(action.before ?? [])] };
  }

  private async commit(action: Extract<ApplyAction, { type: 'commit' }>): Promise<void> {
    const { stats, mode } = this.run;
    const applied: AppliedPosition = {
      file: action.position.file ?? this.last?.file ?? stats.position?.file ?? null,
      position: action.position.position ?? this.last?.position ?? stats.position?.position ?? null,
      gtid: action.position.gtid,
      appliedAt: new Date().toISOString(),
      sourceTimestamp: action.timestamp,
    };
    this.last = applied;
    const { outcome, rows } = await this.guard(
      this.applier.commit(action, {
        context: this.context,
        // Groups only while more waits, and never in careful mode (the applier checks the mode too).
        deferrable: mode.grouped && this.queue.length > 0 && action.xa === undefined,
        onDurable: () => this.recordDurable(applied),
      }),
    );
    // Past one more of the transactions to apply carefully (the last turns grouping back on).
    mode.committed();
    if (rows > 0 || outcome === 'committed') {
      stats.transactions += 1;
      stats.rows += rows;
      this.metrics?.transactionApplied((performance.now() - this.transactionStartedAt) / 1000);
      this.logger.debug({ gtid: action.gtid, file: applied.file, position: applied.position, rows, outcome }, 'applied');
    }
  }
}
