// The apply loop: feeds source events through the assembler and hands each
// apply action to the applier, in order. It is the one place an action is
// dispatched (the applier offers one method per action), and the one owner
// of the apply mode's transitions (careful after a failed group, grouped
// again after its transactions), and of what a failure means for the session.
import { CarefulRetryError, FencedError, UnsupportedEventError, isRetryable } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { AppliedPosition } from '../position.js';
import type { ApplyContext, ApplyFailure, CommitOptions, CommitResult } from '../apply/replica-applier.js';
import { rowCount, type RowChange, type SourceEvent } from '../source/events.js';
import type { StreamHealth } from '../health/stream-health.js';
import type { ReplicationMetrics } from '../health/metrics.js';
import { APPLY_BY_HAND, LIKE_SOURCE_TABLE, lexerOptions, type ApplyAction, type TransactionAssembler } from '../txn/assembler.js';
import { replaceCreateTableName } from '../txn/ddl/rewrite.js';
import { quoteIdentifier } from '../sql/identifiers.js';
import type { EventQueue } from './event-queue.js';
import type { RunContext } from './run-context.js';

/** How long the apply loop may run before it lets I/O callbacks in. */
const YIELD_EVERY_MS = 1;
/**
 * How long a stop waits for a transaction that has changed a table the
 * replica cannot roll back to end (see apply/non-transactional.ts), within
 * the 10 s `start` promises to stop in.
 */
const FINISH_NON_TRANSACTIONAL_MS = 7_000;

type DdlAction = Extract<ApplyAction, { type: 'ddl' }>;
type CommitAction = Extract<ApplyAction, { type: 'commit' }>;

/**
 * What the loop needs of an applier: one method per apply action, and the
 * group's state. ReplicaApplier is the real one; a test's may stand in.
 */
export interface LoopApplier {
  readonly inTransaction: boolean;
  /** Source transactions waiting in the open replica transaction for flush(). */
  readonly deferred: number;
  /**
   * The transaction being applied has changed a table the replica cannot roll
   * back: stopped now, it could never be applied again (see apply/non-transactional.ts).
   */
  readonly changingNonTransactional?: boolean;
  readonly failed: ApplyFailure | undefined;
  setFormat(event: Uint8Array): void;
  // begin, rows and commit may finish at once (see ReplicaApplier): a result, not a promise.
  begin(action: Extract<ApplyAction, { type: 'begin' }>): Promise<void> | undefined;
  rows(change: RowChange, context: ApplyContext): Promise<void> | undefined;
  statement(sql: string, context: ApplyContext): Promise<void>;
  ddl(action: DdlAction, context: ApplyContext): Promise<void>;
  xaEnd(action: Extract<ApplyAction, { type: 'xa-end' }>, context: ApplyContext): Promise<void>;
  /** A source ROLLBACK of the transaction being applied. */
  sourceRollback(): Promise<void>;
  commit(action: CommitAction, options: CommitOptions): CommitResult | Promise<CommitResult>;
  flush(): Promise<boolean>;
  idle(): Promise<void>;
  rollback(): Promise<void>;
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
export interface ApplyLoopOptions {
  queue: EventQueue<SourceEvent>;
  assembler: TransactionAssembler;
  applier: LoopApplier;
  run: RunContext;
  logger: Logger;
  health: StreamHealth | undefined;
  metrics: ReplicationMetrics | undefined;
  /** The source's CREATE TABLE of a table, under a statement's sql_mode. */
  readDefinition: (table: { database: string; table: string }, sqlMode: bigint | undefined) => Promise<string>;
}

/** A statement on one line, shortened for messages and logs. */
function oneLine(sql: string): string {
  const line = sql.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

export class ApplyLoop {
  private context: ApplyContext;
  /** Position of the last transaction handed to the applier (durable or not yet). */
  private last: AppliedPosition | null = null;
  /** When the transaction being applied began (performance.now()), for its duration metric. */
  private transactionStartedAt = 0;
  /** Set once a stop waits for a transaction that changed a non-transactional table (see stopSignal). */
  private finishing: AbortSignal | undefined;
  private readonly queue: EventQueue<SourceEvent>;
  private readonly assembler: TransactionAssembler;
  private readonly applier: LoopApplier;
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
      const stop = this.stopSignal(signal);
      const event = this.queue.poll(stop) ?? (await this.queue.next(stop));
      // Another runner took over: commit nothing more (closing the session rolls back what is open).
      this.run.fence.check();
      if (event === undefined) {
        // (Asked while waiting: a transaction that changed a non-transactional table goes on first, see stopSignal.)
        // (Or the stream has ended: a replay's files are all applied.)
        if (!this.stopSignal(signal).aborted && !this.queue.drained) continue;
        // A graceful stop keeps what the group applied (unless a transaction is
        // half applied: then closing the session rolls the group back).
        await this.settle();
        return;
      }
      try {
        const actions = this.assembler.push(event);
        for (let i = 0; i < actions.length; i++) {
          const action = actions[i]!;
          if (action.type === 'begin') this.context = { ...this.context, gtid: action.gtid };
          else if (this.context.file === null && 'file' in event && typeof event.file === 'string') this.context = { ...this.context, file: event.file };
          const applying = this.apply(action);
          if (applying) await applying;
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

  /**
   * What ends the wait for the next event. A graceful stop in the middle of
   * a transaction that has changed a table the replica cannot roll back
   * waits a few seconds for the rest of it (as the server's own replica does
   * when stopped): cut off, that transaction could never be applied again,
   * and the next `start` would stop on it. (Not when another runner took
   * over: that stop is at once.)
   */
  private stopSignal(signal: AbortSignal): AbortSignal {
    if (!signal.aborted || !this.applier.changingNonTransactional || this.run.fence.lost) return signal;
    if (!this.finishing) {
      this.logger.info({ ...this.context }, 'stopping once the transaction that changes a table the replica cannot roll back has ended');
      this.finishing = AbortSignal.timeout(FINISH_NON_TRANSACTIONAL_MS);
    }
    return this.finishing;
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
    // (Once per durable group, not per transaction: its last transaction's position.)
    applied.appliedAt = new Date().toISOString();
    this.run.fence.savePosition(applied);
    this.run.stats.position = applied;
    this.run.events.emit('committed', { position: applied });
    // Failures name the last durable position: where the replica stands.
    this.context = { ...this.context, position: applied.position, file: applied.file };
  }

  /** An applier step that may have finished at once (see LoopApplier): a failure ends the session (see fail). */
  private step(pending: Promise<void> | undefined): Promise<void> | undefined {
    return pending && this.guard(pending);
  }

  /** The one dispatch of an apply action: a promise only when it has to wait. */
  private apply(action: ApplyAction): Promise<void> | undefined {
    try {
      return this.dispatch(action);
    } catch (error) {
      // Thrown at once by an applier step (begin, rows, commit): as if it had failed later.
      return this.fail(error);
    }
  }

  private dispatch(action: ApplyAction): Promise<void> | undefined {
    // (this.context is read when each step runs: a flush before it may have moved the recorded position.)
    switch (action.type) {
      case 'format':
        this.applier.setFormat(action.event);
        return undefined;
      case 'unsupported':
        return this.stopUnsupported(action);
      case 'refused-statement':
        return this.stopRefused(action);
      case 'skipped-statement':
        // At info: a statement left out is a decision the operator may want to check.
        this.logger.info({ ...this.context, reason: action.reason, sql: oneLine(action.sql) }, 'statement not replicated');
        return undefined;
      case 'commit':
        return this.commit(action);
      case 'ddl':
        return this.applyDdl(action);
      case 'xa-end':
        return this.applyXaEnd(action);
      case 'begin':
        this.transactionStartedAt = performance.now();
        // An XA transaction is a replica transaction of its own.
        if (action.xa !== undefined) return this.flushOrAbort().then(() => this.step(this.applier.begin(action)));
        return this.step(this.applier.begin(action));
      case 'rows': {
        this.metrics?.rowsApplied(action.change.table, action.change.kind, rowCount(action.change));
        return this.step(this.applier.rows(action.change, this.context));
      }
      case 'statement':
        return this.guard(this.applier.statement(action.sql, this.context));
      case 'rollback':
        return this.guard(this.applier.sourceRollback());
    }
  }

  private async stopUnsupported(action: Extract<ApplyAction, { type: 'unsupported' }>): Promise<never> {
    await this.flushOrAbort(); // so the failing transaction is the first after the recorded position
    throw new UnsupportedEventError(
      `the source wrote an event binlog-sync cannot apply faithfully (${action.what}) at ${action.file}:${action.position}; ` +
        'see `binlog-sync check` for the source setting to change',
    );
  }

  private async stopRefused(action: Extract<ApplyAction, { type: 'refused-statement' }>): Promise<never> {
    await this.flushOrAbort();
    const { file, position, gtid } = this.context;
    const at = `${gtid ? `GTID ${gtid}, ` : ''}after ${file ?? '?'}:${position ?? '?'}`;
    // One line: the statement's own line breaks would split the message.
    throw new UnsupportedEventError(`stopped at the statement at ${at} (${action.reason}): ${oneLine(action.sql)}; ${action.remedy}`);
  }

  private async applyDdl(action: DdlAction): Promise<void> {
    await this.flushOrAbort(); // DDL commits implicitly: no group may be open
    return this.guard(this.applier.ddl(action.likeSource ? await this.withLikeSource(action) : action, this.context));
  }

  private async applyXaEnd(action: Extract<ApplyAction, { type: 'xa-end' }>): Promise<void> {
    await this.flushOrAbort(); // XA COMMIT and ROLLBACK run with no transaction open
    return this.guard(this.applier.xaEnd(action, this.context));
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

  private commit(action: Extract<ApplyAction, { type: 'commit' }>): Promise<void> | undefined {
    const { stats, mode } = this.run;
    const applied: AppliedPosition = {
      file: action.position.file ?? this.last?.file ?? stats.position?.file ?? null,
      position: action.position.position ?? this.last?.position ?? stats.position?.position ?? null,
      gtid: action.position.gtid,
      appliedAt: '', // (set once durable: see recordDurable)
      sourceTimestamp: action.timestamp,
      streamSeq: action.streamSeq ?? null,
    };
    this.last = applied;
    const result = this.applier.commit(action, {
      context: this.context,
      // Groups only while more waits, and never in careful mode (the applier checks the mode too).
      deferrable: mode.grouped && this.queue.length > 0 && action.xa === undefined,
      onDurable: () => this.recordDurable(applied),
    });
    if (result instanceof Promise) return this.guard(result).then((r) => this.committed(action, applied, r));
    this.committed(action, applied, result);
    return undefined;
  }

  private committed(action: CommitAction, applied: AppliedPosition, { outcome, rows }: CommitResult): void {
    const { stats, mode } = this.run;
    // Past one more of the transactions to apply carefully (the last turns grouping back on).
    mode.committed();
    if (rows > 0 || outcome === 'committed') {
      stats.transactions += 1;
      stats.rows += rows;
      this.metrics?.transactionApplied((performance.now() - this.transactionStartedAt) / 1000);
      if (this.logger.isLevelEnabled('debug')) this.logger.debug({ gtid: action.gtid, file: applied.file, position: applied.position, rows, outcome }, 'applied');
    }
  }
}
