// Carries out apply actions on the replica over one connection: each source
// transaction becomes one replica transaction that also writes the position
// (checkpoint.ts), so a crash at any instant leaves both or neither.
import type { Endpoint } from '../config/connection-url.js';
import { connect, type Connection } from '../db/connect.js';
import { ALREADY_APPLIED_ERRNOS, LOAD_DATA_REFUSED, isTransientDriverError, type DriverError } from '../db/server-errors.js';
import { ApplyError, GroupAbortedError, TransientApplyError, type FailureLocation } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { BinlogPosition } from '../position.js';
import { sqlModeNames } from '../source/status-vars.js';
import type { ApplyAction } from '../txn/assembler.js';
import type { RowChange } from '../source/events.js';
import { checkCheckpointWritten, checkpointStatement, claimCheckpoint, ensureCheckpointSchema, pendingDdlStatement, type Checkpoint } from './checkpoint.js';
import { rowCount } from '../source/events.js';
import { LocalFiles } from './local-files.js';
import { batchStatements, inlineParams, type BatchingOptions } from '../sql/prepare.js';
import { quoteIdentifier } from '../sql/identifiers.js';
import { buildRowChange, type Statement } from '../sql/statements.js';

/**
 * The apply session: UTC so TIMESTAMP strings mean what the binlog meant, and
 * an sql_mode that accepts whatever the source stored (zero dates, zero in an
 * AUTO_INCREMENT column).
 */
const APPLY_SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION';

const NO_CONTEXT: ApplyContext = { gtid: null, file: null, position: null };
const NO_PARAMS: unknown[] = [];

/**
 * mysql2's own formatting, except that a text without parameters (a batch of
 * prepared statements, megabytes long) is sent as it is instead of being
 * scanned for placeholders.
 */
function formatQuery(sql: string, values: unknown): string {
  return inlineParams(sql, Array.isArray(values) ? values : values == null ? [] : [values]);
}

export type CommitOutcome = 'committed' | 'deferred' | 'none';

export interface ApplyContext {
  gtid: string | null;
  file: string | null;
  position: number | null;
}

/** One replica transaction: the source transactions it holds and its batches' outcomes. */
interface Unit {
  transactions: number;
  /** The position of its last source transaction: written once, as the unit is sealed. */
  checkpoint?: Buffered | undefined;
  /** Records the position of the unit's last source transaction, once the unit is durable. */
  onDurable?: (() => void) | undefined;
  /** Checked results of the batches handed over so far (each settles without throwing). */
  batches: Array<Promise<void>>;
}

/** Why the applier stopped: the error, and how many source transactions its replica transaction held. */
export interface ApplyFailure {
  error: unknown;
  transactions: number;
}

export class ReplicaApplier {
  /** The replica transaction being built (statements may already be on their way). */
  private unit: Unit | undefined;
  /** A standalone DDL ran since the last commit; its position still has to be recorded. */
  private ddlApplied = false;
  private foreignKeyChecks = true;
  /** A DDL recorded as started before a crash; its re-run tolerates "already done" errors. */
  private pendingDdl: string | null = null;
  /** Rows of a source transaction not yet committed (deferred or not) are in the open transaction. */
  private partial = false;
  /**
   * When on, statements wait in `buffer` and go to the replica several per
   * round trip, across rows events, and commits are pipelined. Off (careful
   * mode) after a failure, so each event runs alone and its error names it exactly.
   */
  batching = true;
  private buffer: Buffered[] = [];
  /** Parameters and bytes waiting in `buffer`. */
  private buffered = { params: 0, bytes: 0 };
  /** Numbers the rows events, so a batch knows how many it spans. */
  private events = 0;
  rowsApplied = 0;
  /** The fencing token this applier writes checkpoints under (see claim). */
  private epoch = 0;

  /*
   * The pipeline. Statements are handed to the driver (which keeps them in
   * order on the one connection) without waiting for their answers, so the
   * replica executes while this process decodes and builds what follows. One
   * rule keeps it safe: a COMMIT is handed over only once every batch of its
   * transaction has answered with the row counts expected; until then nothing
   * after it is handed over either. `gate` orders the hand-overs; `work`
   * holds what is on its way, for backpressure; `done` chains the
   * durability callbacks in source order.
   */
  private gate: Promise<void> = Promise.resolve();
  private work: Array<Promise<void>> = [];
  private done: Promise<void> = Promise.resolve();
  private failure: ApplyFailure | undefined;

  private constructor(
    private readonly conn: Connection,
    private readonly streamId: string,
    private readonly logger: Logger,
    /** How set-based statements may be built for this replica. */
    readonly batchingOptions: BatchingOptions,
    /** LOAD DATA files waiting for the server to ask for them. */
    private readonly files: LocalFiles,
  ) {}

  static async open(endpoint: Endpoint, streamId: string, logger: Logger): Promise<ReplicaApplier> {
    const files = new LocalFiles();
    const conn = await connect(endpoint, 'replica', {
      // Several statements per round trip (values still escaped by the driver).
      multipleStatements: true,
      queryFormat: formatQuery,
      // No stack captured per query (our errors say where they come from): it costs on every batch.
      trace: false,
      infileStreamFactory: files.open,
    });
    const [rows] = await conn.query('SELECT VERSION() AS version, @@local_infile AS localInfile');
    const info = (rows as Array<{ version: string; localInfile: number | string }>)[0];
    const flavor = /mariadb/i.test(String(info?.version ?? '')) ? 'mariadb' : 'mysql';
    const loadData = Number(info?.localInfile) === 1 && !loadDataRefused;
    const applier = new ReplicaApplier(conn, streamId, logger, { flavor, loadData }, files);
    // autocommit off: statements are pipelined, and should the server roll a
    // transaction back on its own (a deadlock), what is still on its way must
    // not commit piecemeal. Every write is committed explicitly.
    await conn.query(`SET SESSION time_zone = '+00:00', sql_mode = '${APPLY_SQL_MODE}', foreign_key_checks = 1, autocommit = 0`);
    await ensureCheckpointSchema(conn);
    return applier;
  }

  /**
   * Claims the stream's checkpoint for `epoch` (the fencing token from the
   * state file) and returns the position it holds. Every checkpoint this
   * applier writes afterwards commits only while `epoch` still owns the
   * stream; FencedError once a later one has claimed it.
   */
  async claim(epoch: number): Promise<Checkpoint | null> {
    const checkpoint = await claimCheckpoint(this.conn, this.streamId, epoch);
    this.epoch = epoch;
    this.pendingDdl = checkpoint?.pendingDdl ?? null;
    return checkpoint;
  }

  /** Writes a position outside any source transaction (`position set`, `skip`, `snapshot`) under a new epoch. */
  async writePosition(position: BinlogPosition, sourceTimestamp: number | null, epoch: number): Promise<void> {
    await this.claim(epoch);
    const { sql, params } = checkpointStatement(this.streamId, epoch, position, sourceTimestamp);
    await this.runFenced(sql, params, NO_CONTEXT);
  }

  /** Runs a checkpoint write and its COMMIT; rolls back and throws FencedError when our epoch no longer owns the stream. */
  private async runFenced(sql: string, params: unknown[], context: ApplyContext): Promise<void> {
    const [written] = (await this.run(`${sql}; COMMIT`, params, context, 'checkpoint')) as Array<{ affectedRows?: number }>;
    // (The COMMIT of an update that matched nothing commits nothing.)
    checkCheckpointWritten(written?.affectedRows, this.epoch);
  }

  get inTransaction(): boolean {
    return this.unit !== undefined;
  }

  /** Source transactions waiting in the open replica transaction for flush(). */
  get deferred(): number {
    return this.unit ? this.unit.transactions - (this.partial ? 1 : 0) : 0;
  }

  /** Why the pipeline stopped, once it has (the apply loop then stops too). */
  get failed(): ApplyFailure | undefined {
    return this.failure;
  }

  /**
   * Applies one action. A commit reports 'committed' when its replica
   * transaction was sealed (`onDurable` runs once it is durable), 'deferred'
   * when it joined a group (only when `deferrable`; `onDurable` then runs
   * with the group), and 'none' when the transaction touched nothing on the
   * replica (`onDurable` runs once everything before it is durable).
   */
  async apply(action: ApplyAction, context: ApplyContext, deferrable = false, onDurable?: () => void): Promise<CommitOutcome> {
    this.throwIfFailed();
    switch (action.type) {
      case 'begin':
        return 'none'; // the replica transaction opens lazily, at the first replicated change
      case 'rows':
        await this.applyRows(action.change, context);
        return 'none';
      case 'statement':
        if (this.unit) {
          this.ensureTransaction();
          await this.send({ sql: action.sql, params: [] }, context, 'statement');
        }
        return 'none';
      case 'ddl':
        await this.applyDdl(action, context);
        return 'none';
      case 'commit':
        return this.commit(action.position, action.timestamp, context, deferrable, onDurable);
      case 'rollback':
        // A source ROLLBACK would also undo the group's earlier transactions.
        if (this.deferred > 0) throw new GroupAbortedError('a source ROLLBACK inside a commit group');
        // Everything before it must have gone through: rollback() forgets a failure.
        await this.idle();
        await this.rollback();
        return 'none';
      case 'skipped-statement':
      case 'unparsable-statement':
      case 'unsupported':
        return 'none';
    }
  }

  /** Seals a group of deferred transactions; true when there was one. */
  async flush(): Promise<boolean> {
    // Never in the middle of a source transaction: its rows must not commit without its end.
    if (!this.unit || this.deferred === 0 || this.partial) return false;
    await this.seal();
    return true;
  }

  /** Waits until everything handed over has answered and every sealed commit is durable; throws the failure. */
  async idle(): Promise<void> {
    await this.drain();
    await this.awaitWork(0);
    await this.done;
    this.throwIfFailed();
  }

  /** Waits until at most `limit` pieces of work are still on their way. */
  private async awaitWork(limit: number): Promise<void> {
    while (this.work.length > limit) await this.work.shift();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Hands over what is buffered, then the COMMIT (pipelined: see `gate`). */
  private async seal(): Promise<void> {
    const unit = this.unit!;
    if (unit.checkpoint) this.enqueue(unit.checkpoint);
    await this.drain();
    const onDurable = unit.onDurable;
    this.unit = undefined;
    const previous = this.done;
    this.done = this.handOver(unit, async (hand) => {
      await Promise.all(unit.batches);
      if (this.failure) return;
      const committed = this.run('COMMIT', [], NO_CONTEXT, 'commit');
      hand();
      await committed;
      await previous;
      if (!this.failure) onDurable?.();
    });
    if (!this.batching) await this.idle();
  }

  /**
   * Runs `task` once everything handed over before it has been; the task
   * calls `hand` once its own statement is with the driver, letting the next
   * one go. A failure stops every later hand-over.
   */
  private handOver(unit: Unit, task: (hand: () => void) => Promise<void>): Promise<void> {
    const before = this.gate;
    let hand!: () => void;
    this.gate = new Promise<void>((resolve) => (hand = resolve));
    const result = before
      .then(() => (this.failure ? undefined : task(hand)))
      .catch((error: unknown) => {
        this.failure ??= { error, transactions: unit.transactions };
      })
      .finally(hand);
    this.work.push(result);
    return result;
  }

  private ensureTransaction(): void {
    // autocommit is off: the first statement opens the replica transaction.
    this.unit ??= { transactions: 0, batches: [] };
    if (!this.partial) {
      this.partial = true;
      this.unit.transactions += 1;
    }
  }

  private async setForeignKeyChecks(on: boolean): Promise<void> {
    if (this.foreignKeyChecks === on) return;
    this.foreignKeyChecks = on;
    await this.send({ sql: `SET SESSION foreign_key_checks = ${on ? 1 : 0}`, params: [] }, NO_CONTEXT, 'session');
  }

  private enqueue(statement: Buffered): void {
    if (statement.load && !statement.loads) {
      // Consecutive loads into the same columns become one: each LOAD DATA
      // costs a round trip of its own (the server asks for the file).
      const last = this.buffer.at(-1);
      const bytes = statement.load.length;
      if (last?.loads && last.sql === statement.sql && last.loadBytes! + bytes <= LOAD_FILE_BYTES) {
        last.loads.push(statement.load);
        last.loadBytes! += bytes;
        last.expectRows! += statement.expectRows!;
        this.buffered.bytes += bytes;
        return;
      }
      statement.loads = [statement.load];
      statement.loadBytes = bytes;
    }
    this.buffer.push(statement);
    this.buffered.params += statement.params.length;
    this.buffered.bytes += estimateBytes(statement);
  }

  /**
   * A full batch is waiting: hand it over now rather than let the buffer grow
   * (a large transaction would otherwise reach the replica in bursts, the
   * replica idle while the next burst is built).
   */
  private get batchReady(): boolean {
    // A load still growing (see enqueue) is not counted until its file is full.
    const last = this.buffer.at(-1);
    const growing = last?.loads && last.loadBytes! < LOAD_FILE_BYTES ? last.loadBytes! : 0;
    return this.buffer.length >= BATCH_STATEMENTS || this.buffered.params >= BATCH_PARAMS || this.buffered.bytes - growing >= BATCH_BYTES || (last?.loadBytes ?? 0) >= LOAD_FILE_BYTES;
  }

  /** Queues a statement (batching) or runs it now (careful mode). */
  private async send(statement: Statement, context: ApplyContext, kind: string): Promise<void> {
    this.enqueue({ ...statement, context, kind });
    await this.drainIfDue();
  }

  /** Careful mode runs every statement at once; batching hands over full batches only. */
  private async drainIfDue(): Promise<void> {
    if (!this.batching || this.batchReady) await this.drain(!this.batching);
  }

  /**
   * Hands every buffered statement to the driver, several per round trip,
   * without waiting for the answers (their row counts are checked as they
   * come). At most PIPELINE_DEPTH pieces of work are on their way at once;
   * in careful mode each batch is awaited, so its error is the first.
   */
  private async drain(complete = true): Promise<void> {
    if (this.buffer.length === 0) return;
    const queued = this.buffer;
    this.buffer = [];
    this.buffered = { params: 0, bytes: 0 };
    const unit = this.unit;
    if (!unit) return; // statements outside a transaction are never buffered
    const cut = [...batches(queued)];
    // Only full batches while the transaction goes on: the rest joins what comes next.
    if (!complete && cut.length > 1) for (const statement of cut.pop()!) this.enqueue(statement);
    for (const batch of cut) {
      await this.awaitWork(this.batching ? PIPELINE_DEPTH - 1 : 0);
      this.throwIfFailed();
      const handed = this.handOver(unit, async (hand) => {
        const answered = this.sendBatch(batch);
        hand();
        await answered;
      });
      unit.batches.push(handed);
    }
    if (!this.batching) {
      await this.awaitWork(0);
      this.throwIfFailed();
    }
  }

  private async sendBatch(batch: Buffered[]): Promise<void> {
    const first = batch.find((b) => b.table) ?? batch[0]!;
    // Errors of a batch that spans several events cannot say which one failed:
    // give up the transaction and let it run again, one event at a time.
    // So can a set-based statement whose row order differed from the source's.
    let spansEvents = false;
    let sql = '';
    const params: unknown[] = [];
    for (const b of batch) {
      if (b.setBased || (b.table !== undefined && b.event !== first.event)) spansEvents = true;
      let text = b.sql;
      if (b.loads) text = `LOAD DATA LOCAL INFILE '${this.files.add(b.loads)}' ${text}`;
      sql = sql === '' ? text : `${sql};\n${text}`;
      for (const p of b.params) params.push(p);
    }
    let result: unknown;
    try {
      result = await this.run(sql, params, first.context, first.kind, first.table);
    } catch (error) {
      if (batch.some((b) => b.loads) && LOAD_DATA_REFUSED.has((error as { cause?: DriverError }).cause?.errno ?? -1)) {
        // The replica (or this client) does not take local files after all: insert from now on.
        loadDataRefused = true;
        throw new GroupAbortedError('the replica refused LOAD DATA LOCAL INFILE; inserting the rows instead', { cause: error });
      }
      if (spansEvents && !(error instanceof TransientApplyError)) {
        throw new GroupAbortedError('a statement in a batch failed; applying one event at a time', { cause: error });
      }
      throw error;
    }
    const results = (Array.isArray(result) ? result : [result]) as Array<{ affectedRows?: number; warningStatus?: number }>;
    batch.forEach((b, i) => {
      // LOCAL loads skip a row they cannot take (a duplicate key, a value out of range) with a warning:
      // run the transaction again with INSERTs, whose error names what failed.
      if (b.loads && ((results[i]?.affectedRows ?? 0) !== b.expectRows || (results[i]?.warningStatus ?? 0) > 0)) {
        throw new GroupAbortedError(
          `LOAD DATA into ${b.table} took ${results[i]?.affectedRows ?? 0} of ${b.expectRows} rows with ${results[i]?.warningStatus ?? 0} warnings; applying row by row`,
        );
      }
      if (b.loads) this.logger.debug({ table: b.table, rows: b.expectRows }, 'rows loaded with LOAD DATA');
      // The position matched no row: a later runner owns the stream, and this transaction must not commit.
      if (b.kind === 'checkpoint') return checkCheckpointWritten(results[i]?.affectedRows, this.epoch);
      if (b.expectRows !== undefined && (results[i]?.affectedRows ?? 0) < b.expectRows) {
        throw new ApplyError(
          `the row to ${b.kind} in ${b.table} is not on the replica (the replica has drifted from the source) ` +
            `at ${describeContext(b.context)}; repair the row on the replica and start again, or pass this transaction with \`binlog-sync skip\``,
          { location: locationOf(b.context, b.table ?? null, b.kind) },
        );
      }
    });
  }

  private async applyRows(change: RowChange, context: ApplyContext): Promise<void> {
    this.ensureTransaction();
    // As the source session had them: with checks on, the replica's own
    // foreign keys cascade the child rows the binlog does not carry.
    await this.setForeignKeyChecks(!change.noForeignKeyChecks);
    const table = `${change.table.database}.${change.table.table}`;
    this.events += 1;
    // Prepared statements are set-based: careful mode must build its own, row by row.
    if (change.prepared && !this.batching) throw new Error('internal: a prepared rows event reached the applier in careful mode');
    let statements: Statement[];
    // (Their LOAD DATA bytes arrive as Buffers: see threaded-source.ts.)
    if (change.prepared) statements = change.prepared.statements.map((s) => Object.assign(s, { params: NO_PARAMS }) as Statement);
    else if (this.batching) statements = batchStatements(change, this.batchingOptions);
    else statements = buildRowChange(change, false, this.batchingOptions.flavor);
    for (const statement of statements) {
      // The statement is ours alone: label it in place rather than copy it.
      const buffered = statement as Buffered;
      buffered.context = context;
      buffered.kind = change.kind;
      buffered.table = table;
      buffered.event = this.events;
      this.enqueue(buffered);
    }
    await this.drainIfDue();
    this.rowsApplied += rowCount(change);
  }

  private async applyDdl(action: Extract<ApplyAction, { type: 'ddl' }>, context: ApplyContext): Promise<void> {
    // DDL runs alone: everything before it answered, and (outside a transaction) durable.
    await this.idle();
    const inTransaction = this.unit !== undefined;
    if (!inTransaction) {
      // DDL cannot commit atomically with the position: mark it as started first,
      // so that after a crash its re-run knows it may already have happened.
      const { sql, params } = pendingDdlStatement(this.streamId, this.epoch, action.sql);
      await this.runFenced(sql, params, context);
    }
    const tolerant = this.pendingDdl !== null && this.pendingDdl === action.sql;
    this.pendingDdl = null;
    const session: string[] = [`foreign_key_checks = 0`];
    if (action.sqlMode !== undefined) session.push(`sql_mode = '${sqlModeNames(action.sqlMode, this.batchingOptions.flavor)}'`);
    await this.run(`SET SESSION ${session.join(', ')}`, [], context, 'session');
    this.foreignKeyChecks = false;
    try {
      if (action.database) await this.run(`USE ${quoteIdentifier(action.database)}`, [], context, action.verb, action.database);
      // DDL commits implicitly: whatever was open is committed, and later rows need a new transaction.
      this.unit = undefined;
      await this.run(action.sql, [], context, action.verb, action.targets.join(', '));
      this.ddlApplied = !inTransaction;
      this.logger.info({ ...context, statement: action.verb, tables: action.targets }, `applied ${action.verb}`);
    } catch (error) {
      const errno = (error instanceof ApplyError ? (error.cause as DriverError | undefined)?.errno : undefined) ?? -1;
      if (!(tolerant && ALREADY_APPLIED_ERRNOS.has(errno))) throw error;
      this.ddlApplied = !inTransaction;
      this.logger.warn({ ...context, statement: action.verb }, `${action.verb} had already been applied before a restart`);
    } finally {
      await this.run(`SET SESSION sql_mode = '${APPLY_SQL_MODE}'`, [], context, 'session');
    }
  }

  private async commit(
    position: BinlogPosition,
    timestamp: number,
    context: ApplyContext,
    deferrable: boolean,
    onDurable: (() => void) | undefined,
  ): Promise<CommitOutcome> {
    const { sql, params } = checkpointStatement(this.streamId, this.epoch, position, timestamp);
    if (this.unit) {
      // The position joins the rows in the same replica transaction, grouped or not
      // (also when this transaction changed nothing of ours: it is counted in the group).
      // Only the group's last position is written, as the group is sealed.
      this.ensureTransaction();
      this.unit.checkpoint = { sql, params, context, kind: 'checkpoint', expectRows: 1 };
      this.partial = false;
      this.unit.onDurable = onDurable;
      if (deferrable && this.batching && this.unit.transactions < GROUP_LIMIT) return 'deferred';
      await this.seal();
      return 'committed';
    }
    if (this.ddlApplied) {
      // After a DDL: record its position (and clear the started-DDL mark) on its own.
      await this.runFenced(sql, params, context);
      this.ddlApplied = false;
      onDurable?.();
      return 'committed';
    }
    // Nothing written: the position is as durable as everything before it.
    const previous = this.done;
    this.done = previous.then(() => {
      if (!this.failure) onDurable?.();
    });
    return 'none';
  }

  /** Undoes the open replica transaction, once everything on its way has answered. */
  async rollback(): Promise<void> {
    this.buffer = []; // never sent: nothing to undo
    this.buffered = { params: 0, bytes: 0 };
    this.files.clear();
    this.partial = false;
    await this.awaitWork(0);
    await this.done;
    // A failed transaction may be open even when no new one is being built.
    const open = this.unit !== undefined || this.failure !== undefined;
    this.unit = undefined;
    this.failure = undefined;
    if (open) await this.conn.query('ROLLBACK');
  }

  async close(): Promise<void> {
    try {
      await this.rollback();
    } catch {
      // The connection may already be gone; nothing was committed either way.
    }
    await this.conn.end().catch(() => this.conn.destroy());
  }

  /** Runs one statement, turning driver errors into ours with where and what failed. */
  private async run(sql: string, params: unknown[], context: ApplyContext, kind: string, table?: string): Promise<unknown> {
    try {
      const [result] = await this.conn.query(sql, params);
      return result;
    } catch (error) {
      const e = error as DriverError;
      const detail = `${e.sqlMessage ?? e.message ?? String(error)}${e.errno ? ` (error ${e.errno})` : ''}`;
      const where = `${kind}${table ? ` on ${table}` : ''} at ${describeContext(context)}`;
      const location = locationOf(context, table ?? null, kind);
      if (isTransientDriverError(error)) {
        throw new TransientApplyError(`applying ${where} failed: ${detail}`, { cause: error, location });
      }
      throw new ApplyError(`applying ${where} failed on the replica: ${detail}`, { cause: error, location });
    }
  }
}

/** Set once a replica refused LOAD DATA LOCAL: later sessions insert. */
let loadDataRefused = false;

/** Batches sent ahead of their answers: enough to keep the replica busy while the next is built. */
const PIPELINE_DEPTH = 3;

/** Most source transactions per replica commit. */
const GROUP_LIMIT = 500;

/**
 * Statements, parameters and bytes per round trip at most: large batches keep
 * the replica busy between answers, and no query outgrows max_allowed_packet
 * (16 MiB by default on MariaDB, 64 MiB on MySQL).
 */
const BATCH_STATEMENTS = 1000;
const BATCH_PARAMS = 8_000;
const BATCH_BYTES = 2 * 1024 * 1024;
/** A LOAD DATA file at most (one statement, alone in its batch): fewer, larger loads wait less for their file requests. */
const LOAD_FILE_BYTES = 6 * 1024 * 1024;

/** A statement waiting to be sent, with what its errors must name. */
interface Buffered extends Statement {
  context: ApplyContext;
  kind: string;
  table?: string;
  /** The rows event it belongs to (the first, for loads merged from several). */
  event?: number;
  /** LOAD DATA: the file's parts (of consecutive events into the same columns), and their size. */
  loads?: Buffer[];
  loadBytes?: number;
}

function* batches<T extends Statement>(statements: T[]): Generator<T[]> {
  let batch: T[] = [];
  let params = 0;
  let bytes = 0;
  for (const statement of statements) {
    const size = estimateBytes(statement);
    if (batch.length > 0 && (batch.length >= BATCH_STATEMENTS || params + statement.params.length > BATCH_PARAMS || bytes + size > BATCH_BYTES)) {
      yield batch;
      batch = [];
      params = 0;
      bytes = 0;
    }
    batch.push(statement);
    params += statement.params.length;
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

/** About how many bytes a statement takes on the wire (escaped bytes travel as hex: twice their size). */
function estimateBytes(statement: Statement): number {
  let bytes = statement.sql.length + ((statement as Buffered).loadBytes ?? 0);
  for (const value of statement.params) {
    if (typeof value === 'string') bytes += value.length + 2;
    else if (Buffer.isBuffer(value)) bytes += value.length * 2 + 3;
    else bytes += 8;
  }
  return bytes;
}

function locationOf(context: ApplyContext, table: string | null, statement: string): FailureLocation {
  return { gtid: context.gtid, file: context.file, position: context.position, table, statement };
}

function describeContext(context: ApplyContext): string {
  const parts: string[] = [];
  if (context.gtid) parts.push(`GTID ${context.gtid}`);
  if (context.file) parts.push(`${context.file}:${context.position ?? '?'}`);
  return parts.join(', ') || 'an unknown position';
}
