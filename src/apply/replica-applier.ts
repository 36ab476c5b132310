// Carries out apply actions on the replica over one connection, one method
// per action, each handed to the part whose job it is: the row paths
// (row-paths.ts) make a rows event's statements, the transaction sender
// (transaction-sender.ts) batches and pipelines them, commit groups
// (commit-groups.ts) say when a replica transaction is sealed with its
// position, and DDL and XA transactions have appliers of their own. The
// ApplyMode (owned by the replicator) says whether to group and batch, or to
// apply carefully, one statement at a time.
import type { Endpoint } from '../config/connection-url.js';
import { CarefulRetryError } from '../errors.js';
import { RunCapabilities, type ApplierCapabilities } from '../capabilities.js';
import type { Logger } from '../log/logger.js';
import type { RowChange } from '../source/events.js';
import type { BatchingOptions } from '../sql/prepare.js';
import type { ApplyAction } from '../txn/assembler.js';
import type { SystemZone } from '../source/source-server.js';
import type { ApplyModeView } from './apply-mode.js';
import { ensureCheckpointSchema, readMasking, type Checkpoint } from './checkpoint.js';
import { CheckpointWriter } from './checkpoint-writer.js';
import { CommitGroups, type CommitOptions, type CommitResult } from './commit-groups.js';
import { DdlApplier } from './ddl-applier.js';
import { LocalFiles } from './local-files.js';
import type { ApplyFailure } from './pipeline.js';
import { buffered, type ApplyContext } from './statement-buffer.js';
import { ReplicaConnection, type ApplyConnection } from './replica-connection.js';
import { RowPaths, fitCapabilities } from './row-paths.js';
import { BatchSender } from './batch-sender.js';
import { NonTransactionalGuard, ReplicaEngines } from './non-transactional.js';
import { TransactionSender } from './transaction-sender.js';
import { XaApplier } from './xa-applier.js';

export type { ApplyContext } from './statement-buffer.js';
export type { ApplyFailure } from './pipeline.js';
export type { ApplyConnection } from './replica-connection.js';
export type { ApplierCapabilities } from '../capabilities.js';
export type { CommitOptions, CommitResult } from './commit-groups.js';

export interface ApplierOptions {
  streamId: string;
  logger: Logger;
  /** Grouped or careful: read at every step, never changed here (default: grouped). */
  mode?: ApplyModeView;
  /** The run's capabilities (default: this applier's own). */
  capabilities?: ApplierCapabilities;
  /**
   * Told the bytes of a large row when it is taken in (positive) and when
   * its batch has answered (negative): the session holds the stream back
   * meanwhile (see TransactionSender.hold).
   */
  onLargeInFlight?: (bytes: number) => void;
  /** Told the table (as on the replica) of rows applied as SQL statements while BINLOG statements are on. */
  onSqlPath?: (table: string) => void;
  /**
   * Told each table (as on the replica) found not to be transactional there:
   * its rows are built here from then on (see non-transactional.ts).
   */
  onNonTransactional?: (table: string) => void;
}

export class ReplicaApplier {
  /** Which replica tables cannot roll back. */
  private readonly engines: ReplicaEngines;
  /** What `time_zone = SYSTEM` means on the source (an offset), for its DDL; learned when the session connects. */
  set sourceSystemZone(zone: SystemZone | undefined) {
    this.ddls.sourceSystemZone = zone;
  }
  private readonly streamId: string;
  private readonly logger: Logger;
  private readonly capabilities: ApplierCapabilities;
  /** The apply session's connection: it owns the packet limit and error translation. */
  private readonly replica: ReplicaConnection;
  private readonly rowPaths: RowPaths;
  /** The stream's checkpoint row: claimed, written, fenced. */
  private readonly checkpoint: CheckpointWriter;
  private readonly ddls: DdlApplier;
  private readonly xa: XaApplier;
  /** The replica transaction being built and sent. */
  private readonly out: TransactionSender;
  private readonly commits: CommitGroups;
  private readonly nonTransactional: NonTransactionalGuard;
  /** The replica's VERSION(). */
  version = '';

  constructor(
    /** A connection of a test's, or the session's own (open()). */
    connection: ApplyConnection | ReplicaConnection,
    /** How set-based statements may be built for this replica. */
    private readonly flavor: BatchingOptions['flavor'],
    options: ApplierOptions,
    /** LOAD DATA files waiting for the server to ask for them. */
    private readonly files = new LocalFiles(),
  ) {
    this.streamId = options.streamId;
    this.logger = options.logger;
    const mode = options.mode ?? { grouped: true };
    this.capabilities = options.capabilities ?? new RunCapabilities(undefined);
    this.replica = connection instanceof ReplicaConnection ? connection : new ReplicaConnection(connection);
    this.engines = new ReplicaEngines(this.replica);
    this.rowPaths = new RowPaths(this.replica, flavor, mode, this.capabilities, options.onSqlPath);
    this.checkpoint = new CheckpointWriter(this.replica, this.streamId);
    this.ddls = new DdlApplier(this.replica, this.checkpoint, flavor, this.logger);
    this.xa = new XaApplier(this.replica, this.checkpoint, this.logger);
    this.out = new TransactionSender({
      replica: this.replica,
      checkpoint: this.checkpoint,
      xa: this.xa,
      batches: new BatchSender(this.replica, this.rowPaths.binlog, this.checkpoint, this.capabilities, this.files, this.logger),
      mode,
      onLargeInFlight: options.onLargeInFlight,
    });
    this.commits = new CommitGroups(this.out, this.checkpoint, this.xa, mode);
    this.nonTransactional = new NonTransactionalGuard(this.out, this.checkpoint, this.logger, options.onNonTransactional);
  }

  static async open(endpoint: Endpoint, options: ApplierOptions): Promise<ReplicaApplier> {
    const files = new LocalFiles();
    const { replica, info } = await ReplicaConnection.open(endpoint, files);
    const applier = new ReplicaApplier(replica, info.flavor, options, files);
    applier.version = info.version;
    // (Asked for a run of `start` only: a position written outside the stream applies no rows.)
    await fitCapabilities(replica.current, info, applier.capabilities, options.capabilities?.binlogStatements === true);
    await ensureCheckpointSchema(replica.current);
    return applier;
  }

  /** The largest statement the replica takes (0: unknown). */
  get packetLimit(): number {
    return this.replica.maxPacket;
  }

  /**
   * Makes the replica take every row the source accepted (see
   * ReplicaConnection.fitPacketLimit); a new connection is the stream's
   * owner from then on (see claim).
   */
  async fitPacketLimit(sourceBytes: number): Promise<void> {
    const replaced = await this.replica.fitPacketLimit(sourceBytes, this.logger);
    if (replaced) await this.checkpoint.ownConnection();
  }

  /** The replica's flavour. */
  get flavorName(): BatchingOptions['flavor'] {
    return this.flavor;
  }

  /** Whether row events go to the replica as BINLOG statements this run. */
  get binlogStatements(): boolean {
    return this.capabilities.binlogStatements;
  }

  /** Applies row events as SQL statements for the rest of the run, saying why. */
  disableBinlogStatements(reason: string): void {
    this.capabilities.disable('binlogStatements', reason, 'info');
  }

  /** How statements may be built ahead for this replica (see decode-thread.ts). */
  get batchingOptions(): BatchingOptions {
    return this.rowPaths.batchingOptions;
  }

  /**
   * Claims the stream's checkpoint for `epoch` (the fencing token from the
   * state file) and returns the position it holds. Every checkpoint this
   * applier writes afterwards commits only while `epoch` still owns the
   * stream; FencedError once a later one has claimed it.
   */
  claim(epoch: number): Promise<Checkpoint | null> {
    return this.checkpoint.claim(epoch);
  }

  /**
   * The mark of a source transaction interrupted after it changed a table
   * the replica cannot roll back (see non-transactional.ts); null when none.
   */
  nonTransactionalMark(): Promise<string | null> {
    return this.checkpoint.nonTransactionalMark();
  }

  /** The masking the replica was seeded with (mask/record.ts), null when none. */
  recordedMasking(): Promise<string | null> {
    return readMasking(this.replica.current, this.streamId);
  }

  get inTransaction(): boolean {
    return this.out.txn.unit !== undefined;
  }

  /** The source transaction being applied has changed a table the replica cannot roll back (see non-transactional.ts). */
  get changingNonTransactional(): boolean {
    return this.nonTransactional.changing;
  }

  /** Source transactions waiting in the open replica transaction for flush(). */
  get deferred(): number {
    return this.out.txn.deferred;
  }

  /** Why the pipeline stopped, once it has (the apply loop then stops too). */
  get failed(): ApplyFailure | undefined {
    return this.out.pipeline.failed;
  }

  // One method per apply action, called by the apply loop (replicator/apply-loop.ts), the one place that dispatches them.
  //
  // The steps taken for every event (begin, rows, commit) finish at once
  // when they need not wait (undefined, or the commit's result), else they
  // return a promise: on a stream of small transactions the promises alone
  // were a fifth of the main thread's work. A failure may be thrown at once.

  /** The binlog being read has this format description: BINLOG statements' events are read with it. */
  setFormat(event: Uint8Array): void {
    this.rowPaths.binlog.setFormat(event);
  }

  /**
   * A source transaction begins. The replica transaction opens lazily, at
   * the first replicated change; an XA one with XA START (see
   * TransactionSender.ensureTransaction).
   */
  begin(action: Extract<ApplyAction, { type: 'begin' }>): Promise<void> | undefined {
    this.out.pipeline.throwIfFailed();
    return action.xa !== undefined ? this.beginXa(action.xa) : undefined;
  }

  /** An XA prepare group begins: applied as an XA transaction of the same id (see xa-applier.ts). */
  private async beginXa(xid: string): Promise<void> {
    await this.out.idle();
    await this.xa.begin(xid);
  }

  /** A rows event: its statements, by the path it came for (see row-paths.ts), join the open replica transaction. */
  rows(change: RowChange, context: ApplyContext): Promise<void> | undefined {
    this.out.pipeline.throwIfFailed();
    // Rows of an XA transaction already prepared here before a restart: applied already.
    if (this.xa.passesRows) return undefined;
    // Whether the replica can roll the table back: asked at its first event, known at once after (see non-transactional.ts).
    const engine = this.engines.known(change.table);
    if (engine === undefined) return this.engines.ask(change.table).then(() => this.rows(change, context));
    if (engine !== null && !this.nonTransactional.changing) {
      return this.nonTransactional.before(change, engine, context).then(() => this.rowPaths.add(change, context, true, this.out));
    }
    return this.rowPaths.add(change, context, engine !== null, this.out);
  }

  /** SAVEPOINT / ROLLBACK TO SAVEPOINT inside a transaction, passed through (nothing to do before its first change). */
  async statement(sql: string, context: ApplyContext): Promise<void> {
    this.out.pipeline.throwIfFailed();
    if (!this.out.txn.unit) return;
    this.out.ensureTransaction();
    await this.out.send(buffered({ sql, params: [] }, { context, kind: 'statement' }));
  }

  /** A source ROLLBACK: undoes what this transaction applied (never a group's earlier transactions). */
  async sourceRollback(): Promise<void> {
    this.out.pipeline.throwIfFailed();
    if (this.deferred > 0) throw new CarefulRetryError('a source ROLLBACK inside a commit group');
    // Everything before it must have gone through: rollback() forgets a failure.
    await this.idle();
    await this.rollback();
  }

  /**
   * A source transaction's commit (see commit-groups.ts). `onDurable` runs
   * once its position is durable.
   */
  commit(action: Extract<ApplyAction, { type: 'commit' }>, options: CommitOptions): CommitResult | Promise<CommitResult> {
    this.out.pipeline.throwIfFailed();
    const rows = this.rowPaths.transactionEnded();
    return this.commits.commit(action, options, rows, this.nonTransactional.transactionEnded());
  }

  /** Seals a group of deferred transactions; true when there was one. */
  flush(): Promise<boolean> {
    return this.out.flush();
  }

  /** Waits until everything handed over has answered and every sealed commit is durable; throws the failure. */
  idle(): Promise<void> {
    return this.out.idle();
  }

  /** Undoes the open replica transaction, once everything on its way has answered. */
  async rollback(): Promise<void> {
    this.files.clear();
    this.rowPaths.transactionEnded();
    // (A mark committed stays: the next session finds it, unless this transaction's checkpoint clears it.)
    this.nonTransactional.transactionEnded();
    // (What was buffered was never sent: nothing to undo.)
    const open = await this.out.reset();
    if (!(await this.xa.rollback(open)) && open) await this.replica.query('ROLLBACK');
  }

  async close(): Promise<void> {
    try {
      await this.rollback();
    } catch {
      // The connection may already be gone; nothing was committed either way.
    }
    await this.replica.end();
  }

  /** The group that commits or rolls back an XA transaction, run with nothing open (see xa-applier.ts). */
  async xaEnd(action: Extract<ApplyAction, { type: 'xa-end' }>, context: ApplyContext): Promise<void> {
    this.out.pipeline.throwIfFailed();
    await this.idle();
    await this.xa.end(action, context);
    this.out.txn.ranAlone(false);
  }

  /** A DDL statement, run alone (see ddl-applier.ts): everything before it answered, and (outside a transaction) durable. */
  async ddl(action: Extract<ApplyAction, { type: 'ddl' }>, context: ApplyContext): Promise<void> {
    this.out.pipeline.throwIfFailed();
    await this.idle();
    const standalone = this.out.txn.unit === undefined;
    // (It leaves foreign key checks off, and table definitions may have changed.)
    this.rowPaths.sql.afterDdl();
    this.engines.clear();
    // (Inside a source transaction, the DDL commits what is open: nothing of it is owed a position alone.)
    await this.ddls.apply(action, context, standalone, () => {
      if (!standalone) this.out.txn.ranAlone(true);
    });
    if (standalone) this.out.txn.ranAlone(false);
  }
}
