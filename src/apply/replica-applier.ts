// Carries out apply actions on the replica over one connection. Consecutive
// source transactions may share one replica transaction (a group, never a
// part of one) that also writes the position of the last of them
// (checkpoint.ts), so a crash at any instant leaves both or neither. The
// statements wait in a StatementBuffer and go out in batches through the
// HandOverPipeline; the ApplyMode (owned by the replicator) says whether to
// group and batch, or to apply carefully, one statement at a time.
import type { Endpoint } from '../config/connection-url.js';
import { connect } from '../db/connect.js';
import { ALREADY_APPLIED_ERRNOS, ER_XAER_NOTA, LOAD_DATA_REFUSED, isTransientDriverError, type DriverError } from '../db/server-errors.js';
import { ApplyError, CarefulRetryError, PacketLimitError, PacketLimitRaisedError, TransientApplyError, type FailureLocation } from '../errors.js';
import { RunCapabilities } from '../capabilities.js';
import type { Logger } from '../log/logger.js';
import type { BinlogPosition } from '../position.js';
import { rowCount, type RowChange } from '../source/events.js';
import { quoteIdentifier } from '../sql/identifiers.js';
import { assembleQuery, partBytes, type QueryPart } from '../db/large-query.js';
import { describeBytes, MAX_PACKET_LIMIT, packetLimitFix, PACKET_SLACK } from '../db/packet-limit.js';
import { raisePacketLimit, sessionPacketLimit } from '../db/replica-packet-limit.js';
import { batchStatements, formatApplyQuery, inlineParts, type BatchingOptions } from '../sql/prepare.js';
import { buildRowChange } from '../sql/statements.js';
import { binlogStatement, binlogStatementBytes } from '../binlog/event-bytes.js';
import { binlogBatch } from './binlog-rows.js';
import { ER_SPECIFIC_ACCESS_DENIED, binlogGrant, binlogRefusal } from './binlog-privilege.js';
import { ReplicaHistory, buildVersionedChange, mayBeSystemVersioned, type Versioning } from '../sql/versioning.js';
import type { ApplyAction } from '../txn/assembler.js';
import type { SystemZone } from '../source/source-server.js';
import type { ApplyModeView } from './apply-mode.js';
import {
  checkCheckpointWritten,
  checkpointStatement,
  claimCheckpoint,
  ensureCheckpointSchema,
  maskingStatement,
  readMasking,
  pendingDdlStatement,
  ownerConnectionStatement,
  readXaPending,
  xaDoneStatement,
  xaPendingStatement,
  type Checkpoint,
  type CheckpointStatement,
  type SqlConnection,
} from './checkpoint.js';
import { LocalFiles } from './local-files.js';
import { applySessionStatement, enterDdlContext, leaveDdlContext } from './session-context.js';
import { HandOverPipeline, type ApplyFailure } from './pipeline.js';
import { collectSoon } from '../replicator/memory-budget.js';
import { StatementBuffer, buffered, estimateBytes, type ApplyContext, type Buffered } from './statement-buffer.js';

export type { ApplyContext } from './statement-buffer.js';
export type { ApplyFailure } from './pipeline.js';

/** Unknown or incorrect time zone. */
const ER_UNKNOWN_TIME_ZONE = 1298;

const NO_CONTEXT: ApplyContext = { gtid: null, file: null, position: null };

/** Batches sent ahead of their answers: enough to keep the replica busy while the next is built. */
const PIPELINE_DEPTH = 3;
/** A batch from this size goes out alone (nothing else on its way): memory holds one large statement at a time, not PIPELINE_DEPTH. */
const LARGE_BATCH_BYTES = 8 * 1024 * 1024;
/**
 * A query of bytes from this size is collected as soon as it is answered
 * (a full collection of a small heap takes milliseconds, sending such a
 * query far longer): else several of them wait in memory for V8's next
 * collection, measured at 140 MiB more with 30 MB values.
 */
const COLLECT_AFTER_QUERY_BYTES = 16 * 1024 * 1024;

/**
 * A group takes no more transactions once it holds this many (or rows, or
 * has been open this long): a large or slow transaction is committed at its
 * own end, not held open with whatever comes after it (which may be slow to
 * apply, and would be redone with it after a failure).
 */
const GROUP_LIMIT = 500;
const GROUP_ROWS = 10_000;
const GROUP_OPEN_MS = 1_000;

/** How long the replica may take to let go of a prepared XA transaction whose session ended. */
const DETACH_TIMEOUT_MS = 10_000;

/** Got a packet bigger than 'max_allowed_packet' bytes. */
const ER_NET_PACKET_TOO_LARGE = 1153;

/** A statement from this estimated size is measured exactly against the replica's max_allowed_packet before it goes. */
const MEASURED_STATEMENT_BYTES = 256 * 1024;

/** What the applier needs of a connection (mysql2's promise connection has it; so can a test's). */
export interface ApplyConnection extends SqlConnection {
  end(): Promise<void>;
  destroy(): void;
}

/**
 * What the applier may use this run: BINLOG statements and LOAD DATA, each
 * lost for the rest of the run once the replica refuses it.
 */
export interface ApplierCapabilities {
  readonly loadData: boolean;
  readonly binlogStatements: boolean;
  disable(capability: 'loadData' | 'binlogStatements', reason: string, level?: 'warn' | 'info'): void;
}

/** How a source commit ended on the replica, and how many rows its transaction changed there. */
export interface CommitResult {
  /**
   * 'committed': its replica transaction was sealed; 'deferred': it joined a
   * group, sealed later; 'none': it touched nothing on the replica.
   */
  outcome: 'committed' | 'deferred' | 'none';
  rows: number;
}

export interface CommitOptions {
  context: ApplyContext;
  /** More transactions wait: the commit may join a group (only when the mode is grouped). */
  deferrable: boolean;
  /** Records the position once the commit is durable (in source order). */
  onDurable: () => void;
}

export interface ApplierOptions {
  streamId: string;
  logger: Logger;
  /** Grouped or careful: read at every step, never changed here (default: grouped). */
  mode?: ApplyModeView;
  /** The run's capabilities (default: this applier's own). */
  capabilities?: ApplierCapabilities;
  /** A new connection set up like the first (see detachPrepared); open() provides it. */
  reopen?: () => Promise<ApplyConnection>;
  /**
   * Told the bytes of a large row when it is taken in (positive) and when
   * its batch has answered (negative): the session holds the stream back
   * meanwhile (see hold()).
   */
  onLargeInFlight?: (bytes: number) => void;
}

/** One replica transaction: the source transactions it holds and its batches' outcomes. */
interface Unit {
  transactions: number;
  /** Rows of its source transactions so far. */
  rows: number;
  /** When it was opened (performance.now()). */
  openedAt: number;
  /** The position of its last source transaction: written once, as the unit is sealed. */
  checkpoint?: Buffered | undefined;
  /** Records the position of the unit's last source transaction, once the unit is durable. */
  onDurable?: (() => void) | undefined;
  /** Checked results of the batches handed over so far (each settles without throwing). */
  batches: Array<Promise<void>>;
}

/**
 * A connection for applying: several statements per round trip (values
 * escaped into the text, see formatQuery), UTC, an sql_mode that accepts
 * what the source stored, and autocommit off: statements are pipelined, and
 * should the server roll a transaction back on its own (a deadlock), what is
 * still on its way must not commit piecemeal. Every write is committed explicitly.
 */
async function openApplyConnection(
  endpoint: Endpoint,
  files: LocalFiles,
): Promise<{ conn: ApplyConnection; flavor: BatchingOptions['flavor']; version: string; localInfile: boolean }> {
  const conn = await connect(endpoint, 'replica', {
    multipleStatements: true,
    queryFormat: formatApplyQuery,
    // No stack captured per query (our errors say where they come from): it costs on every batch.
    trace: false,
    infileStreamFactory: files.open,
  });
  const [rows] = await conn.query('SELECT VERSION() AS version, @@local_infile AS localInfile');
  const info = (rows as Array<{ version: string; localInfile: number | string }>)[0];
  const flavor = /mariadb/i.test(String(info?.version ?? '')) ? 'mariadb' : 'mysql';
  const [history] = await conn.query("SHOW VARIABLES LIKE 'system_versioning_insert_history'");
  await conn.query(applySessionStatement({ flavor, insertHistory: (history as unknown[]).length > 0 }));
  return { conn, flavor, version: String(info?.version ?? ''), localInfile: Number(info?.localInfile) === 1 };
}

/** Can't find record: a row event's row is not on the replica. */
const ER_KEY_NOT_FOUND = 1032;

/** Why row events cannot go as BINLOG statements on this connection, as the log says it; undefined when they can. */
async function binlogStatementsRefused(conn: ApplyConnection, flavor: BatchingOptions['flavor']): Promise<string | undefined> {
  const refusal = await binlogRefusal(conn);
  if (!refusal) return undefined;
  if (refusal.reason === 'privilege') {
    return (
      `the replica's user may not send BINLOG statements (it needs ${binlogGrant(flavor)}); row events are applied as SQL statements instead, ` +
      `which is slower to catch up (docs/replication.md, two row paths): GRANT ${binlogGrant(flavor)} ON *.* TO the replica's user to let the replica apply them itself`
    );
  }
  return `the replica refused a BINLOG statement (${refusal.message}); row events are applied as SQL statements instead`;
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
  /** Rows the current source transaction changed so far (reported with its commit). */
  private rows = 0;
  /** Numbers the rows events, so a batch knows how many it spans. */
  private events = 0;
  /** The fencing token this applier writes checkpoints under (see claim). */
  private epoch = 0;
  /** What `time_zone = SYSTEM` means on the source (an offset), for its DDL; learned when the session connects. */
  sourceSystemZone: SystemZone | undefined;
  /**
   * The XA transaction the current event group prepares; `prepared` when
   * the replica already holds it prepared (applied before a restart: its
   * rows are passed over).
   */
  private xa: { xid: string; prepared: boolean } | undefined;
  /** An XA transaction committed or rolled back since the last commit: forgotten with its position. */
  private xaEnded: string | undefined;
  /** Per replica table: where its system-versioning period is, or null; known until the next DDL. */
  private readonly versioned = new Map<string, Versioning | null>();
  /** History rows the replica wrote itself in this source transaction (see versioning.ts). */
  private readonly history = new ReplicaHistory();
  private readonly buffer = new StatementBuffer();
  private readonly pipeline = new HandOverPipeline();
  private readonly streamId: string;
  private readonly logger: Logger;
  private readonly mode: ApplyModeView;
  private readonly capabilities: ApplierCapabilities;
  private readonly reopen: (() => Promise<ApplyConnection>) | undefined;
  private readonly onLargeInFlight: ((bytes: number) => void) | undefined;
  /** The apply session's max_allowed_packet (0 until known), and the source's. */
  private maxPacket = 0;
  private sourcePacket = 0;
  /** Whether this user may raise the replica's max_allowed_packet (until it is refused). */
  private mayRaisePacket = true;
  /** The source's format description, as the BINLOG statement that must come before any rows events on a connection. */
  private formatStatement: string | undefined;
  /** The connection that has read it. */
  private formatOn: ApplyConnection | undefined;
  /** The replica's VERSION(). */
  version = '';

  constructor(
    private conn: ApplyConnection,
    /** How set-based statements may be built for this replica. */
    private readonly flavor: BatchingOptions['flavor'],
    options: ApplierOptions,
    /** LOAD DATA files waiting for the server to ask for them. */
    private readonly files = new LocalFiles(),
  ) {
    this.streamId = options.streamId;
    this.logger = options.logger;
    this.mode = options.mode ?? { grouped: true };
    this.capabilities = options.capabilities ?? new RunCapabilities(undefined);
    this.reopen = options.reopen;
    this.onLargeInFlight = options.onLargeInFlight;
  }

  static async open(endpoint: Endpoint, options: ApplierOptions): Promise<ReplicaApplier> {
    const files = new LocalFiles();
    const { conn, flavor, version, localInfile } = await openApplyConnection(endpoint, files);
    const reopen = async (): Promise<ApplyConnection> => (await openApplyConnection(endpoint, files)).conn;
    const applier = new ReplicaApplier(conn, flavor, { ...options, reopen }, files);
    applier.version = version;
    if (!localInfile) applier.capabilities.disable('loadData', 'the replica has local_infile off; large inserts go as INSERT statements', 'info');
    // (Asked for a run of `start` only: a position written outside the stream applies no rows.)
    if (options.capabilities?.binlogStatements) {
      const refusal = await binlogStatementsRefused(conn, flavor);
      if (refusal) applier.capabilities.disable('binlogStatements', refusal);
    }
    await ensureCheckpointSchema(conn);
    applier.maxPacket = await sessionPacketLimit(conn);
    return applier;
  }

  /** The largest statement the replica takes (0: unknown). */
  get packetLimit(): number {
    return this.maxPacket;
  }

  /**
   * Makes the replica take every row the source accepted (`sourceBytes`, the
   * source's max_allowed_packet), as the server's own replica does with its
   * slave_max_allowed_packet: raises the replica's global limit when this
   * user may, and goes on over a new connection, which sees it. When it may
   * not, says so once; a row too large then stops replication before any of
   * its transaction is applied (see checkFits), with the fix.
   */
  async fitPacketLimit(sourceBytes: number): Promise<void> {
    if (!(sourceBytes > 0) || !this.reopen) return;
    this.sourcePacket = sourceBytes;
    const result = await raisePacketLimit(this.conn, this.maxPacket, sourceBytes);
    if (result.outcome === 'refused') {
      this.mayRaisePacket = false;
      this.logger.warn({ replicaMaxAllowedPacket: this.maxPacket, sourceMaxAllowedPacket: sourceBytes }, result.message);
    }
    if (result.outcome !== 'raised') return;
    const previous = this.conn;
    this.conn = await this.reopen();
    await previous.end().catch(() => previous.destroy());
    this.foreignKeyChecks = true;
    if (this.epoch > 0) {
      // The new connection is the stream's owner now (see claim).
      const { sql, params } = ownerConnectionStatement(this.streamId, this.epoch);
      await this.runFenced(sql, params, NO_CONTEXT);
    }
    this.maxPacket = await sessionPacketLimit(this.conn);
    this.logger.info({ replicaMaxAllowedPacket: this.maxPacket, sourceMaxAllowedPacket: sourceBytes }, result.message);
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
    return { flavor: this.flavor, loadData: this.capabilities.loadData };
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

  /**
   * Writes a position outside any source transaction (`position set`,
   * `skip`, `snapshot`) under a new epoch. `passedXa`: the position passes
   * the prepare group of that XA transaction without applying it (`skip`),
   * so the group that ends it has nothing to end here.
   */
  async writePosition(position: BinlogPosition, sourceTimestamp: number | null, epoch: number, passedXa?: { xid: string; gtid: string | null }): Promise<void> {
    await this.claim(epoch);
    const { sql, params } = checkpointStatement(this.streamId, epoch, position, sourceTimestamp);
    const notes = passedXa ? [xaPendingStatement(this.streamId, passedXa.xid, false, passedXa.gtid)] : [];
    await this.runFenced(sql, params, NO_CONTEXT, notes);
  }

  /** The masking the replica was seeded with (mask/record.ts), null when none. */
  recordedMasking(): Promise<string | null> {
    return readMasking(this.conn, this.streamId);
  }

  /** Records the masking a snapshot seeded the replica with, under the epoch that wrote its position. */
  async recordMasking(masking: string | null, epoch: number): Promise<void> {
    const { sql, params } = maskingStatement(this.streamId, epoch, masking);
    await this.runFenced(sql, params, NO_CONTEXT, []);
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
    return this.pipeline.failed;
  }

  /** Applies one action of a source transaction, other than its commit (see commit()). */
  async apply(action: Exclude<ApplyAction, { type: 'commit' }>, context: ApplyContext): Promise<void> {
    this.pipeline.throwIfFailed();
    switch (action.type) {
      case 'format':
        // Read by the next BINLOG statement's connection first (see sendBinlog).
        this.formatStatement = binlogStatement([action.event]);
        this.formatOn = undefined;
        return;
      case 'begin':
        // The replica transaction opens lazily, at the first replicated change;
        // an XA one with XA START (see ensureTransaction).
        if (action.xa !== undefined) await this.beginXa(action.xa);
        return;
      case 'xa-end':
        return this.endXa(action, context);
      case 'rows':
        return this.applyRows(action.change, context);
      case 'statement':
        if (this.unit) {
          this.ensureTransaction();
          await this.send(buffered({ sql: action.sql, params: [] }, { context, kind: 'statement' }));
        }
        return;
      case 'ddl':
        return this.applyDdl(action, context);
      case 'rollback':
        // A source ROLLBACK would also undo the group's earlier transactions.
        if (this.deferred > 0) throw new CarefulRetryError('a source ROLLBACK inside a commit group');
        // Everything before it must have gone through: rollback() forgets a failure.
        await this.idle();
        await this.rollback();
        return;
      case 'skipped-statement':
      case 'refused-statement':
      case 'unsupported':
        return;
    }
  }

  /**
   * A source transaction's commit. Its position joins its rows in the same
   * replica transaction: sealed now, or deferred into a group when more
   * transactions wait. `onDurable` runs once the position is durable.
   */
  async commit(action: Extract<ApplyAction, { type: 'commit' }>, options: CommitOptions): Promise<CommitResult> {
    this.pipeline.throwIfFailed();
    const rows = this.rows;
    this.rows = 0;
    this.history.clear();
    const { sql, params } = checkpointStatement(this.streamId, this.epoch, action.position, action.timestamp);
    if (action.xa !== undefined) return this.commitXaPrepare(action.xa, action.gtid, { sql, params }, options, rows);
    if (this.unit) {
      // Also when this transaction changed nothing of ours: it is counted in the group.
      // Only the group's last position is written, as the group is sealed.
      this.ensureTransaction();
      this.unit.checkpoint = buffered({ sql, params, expectRows: 1 }, { context: options.context, kind: 'checkpoint' });
      this.partial = false;
      this.unit.onDurable = options.onDurable;
      this.unit.rows += rows;
      if (options.deferrable && this.mode.grouped && this.mayGrow(this.unit)) return { outcome: 'deferred', rows };
      await this.seal();
      return { outcome: 'committed', rows };
    }
    if (this.ddlApplied) {
      // After a DDL (or an XA COMMIT/ROLLBACK): record its position (and clear the started-DDL mark) on its own.
      const ended = this.xaEnded;
      this.xaEnded = undefined;
      await this.runFenced(sql, params, options.context, ended !== undefined ? [xaDoneStatement(this.streamId, ended)] : []);
      this.ddlApplied = false;
      options.onDurable();
      return { outcome: 'committed', rows };
    }
    // Nothing written: the position is as durable as everything before it.
    this.pipeline.afterDurable(options.onDurable);
    return { outcome: 'none', rows };
  }

  private mayGrow(unit: Unit): boolean {
    return unit.transactions < GROUP_LIMIT && unit.rows < GROUP_ROWS && performance.now() - unit.openedAt < GROUP_OPEN_MS;
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
    await this.drain(true);
    await this.pipeline.idle();
  }

  /** Undoes the open replica transaction, once everything on its way has answered. */
  async rollback(): Promise<void> {
    this.buffer.clear(); // never sent: nothing to undo
    this.files.clear();
    this.partial = false;
    this.rows = 0;
    this.history.clear();
    const failed = await this.pipeline.reset();
    // A failed transaction may be open even when no new one is being built.
    const open = this.unit !== undefined || failed;
    this.unit = undefined;
    const xa = this.xa;
    this.xa = undefined;
    if (open && xa && !xa.prepared) {
      // An XA transaction of ours, active or ended but not prepared: ROLLBACK would be refused.
      await this.conn.query(`XA END ${xa.xid}`).catch(() => undefined);
      await this.conn.query(`XA ROLLBACK ${xa.xid}`).catch(() => undefined);
    } else if (open) await this.conn.query('ROLLBACK');
  }

  async close(): Promise<void> {
    try {
      await this.rollback();
    } catch {
      // The connection may already be gone; nothing was committed either way.
    }
    await this.conn.end().catch(() => this.conn.destroy());
  }

  /** Hands over what is buffered, then the COMMIT (pipelined: see pipeline.ts), or what ends the transaction instead. */
  private async seal(end = 'COMMIT'): Promise<void> {
    const unit = this.unit!;
    if (unit.checkpoint) this.buffer.add(unit.checkpoint);
    await this.drain(true);
    this.unit = undefined;
    this.pipeline.commit(unit.transactions, unit.batches, () => this.run(end, [], NO_CONTEXT, 'commit'), unit.onDurable);
    if (!this.mode.grouped) await this.idle();
  }

  /**
   * An XA prepare group begins. It is applied as an XA transaction of the
   * same id on the replica, prepared when the source prepared it, and
   * committed or rolled back by the later group that ends it (endXa). XA
   * transactions that are prepared survive a restart of the replica and of
   * this process; one already prepared here (applied before a restart, its
   * position not yet recorded) is not applied again.
   */
  private async beginXa(xid: string): Promise<void> {
    await this.idle();
    this.xa = { xid, prepared: await this.preparedHere(xid) };
    await this.run('COMMIT', [], NO_CONTEXT, 'xa'); // XA START wants no transaction open
  }

  /** Whether the replica holds the XA transaction `xid` prepared (XA RECOVER). */
  private async preparedHere(xid: string): Promise<boolean> {
    const result = (await this.run('XA RECOVER', [], NO_CONTEXT, 'xa')) as Array<{ formatID: number; gtrid_length: number; bqual_length: number; data: Buffer | string }>;
    return result.some((row) => {
      const data = Buffer.isBuffer(row.data) ? row.data : Buffer.from(String(row.data), 'latin1');
      const gtrid = data.subarray(0, Number(row.gtrid_length));
      const bqual = data.subarray(Number(row.gtrid_length), Number(row.gtrid_length) + Number(row.bqual_length));
      return `X'${gtrid.toString('hex')}',X'${bqual.toString('hex')}',${row.formatID}` === xid;
    });
  }

  /**
   * The end of an XA prepare group: the XA transaction is ended and prepared
   * on the replica (when any of its rows were ours), then the position is
   * recorded on its own, with a note for the group that will end it. The
   * two cannot commit together (a prepared XA transaction is not committed);
   * a restart in between finds the transaction prepared (beginXa).
   */
  private async commitXaPrepare(
    xid: string,
    gtid: string | null,
    checkpoint: CheckpointStatement,
    options: CommitOptions,
    rows: number,
  ): Promise<CommitResult> {
    const prepared = this.xa?.prepared === true || this.unit !== undefined;
    if (this.unit) {
      this.partial = false;
      await this.seal(`XA END ${xid}; XA PREPARE ${xid}`);
      await this.idle();
      this.xa = undefined;
      await this.detachPrepared(xid);
    }
    this.xa = undefined;
    await this.runFenced(checkpoint.sql, checkpoint.params, options.context, [xaPendingStatement(this.streamId, xid, prepared, gtid)]);
    options.onDurable();
    return { outcome: 'committed', rows };
  }

  /**
   * MariaDB keeps a prepared XA transaction bound to the session that
   * prepared it, which may run nothing else until it ends; a session that
   * disconnects leaves it prepared for any other to end (and a restart
   * keeps it). So the apply session goes on over a new connection.
   */
  private async detachPrepared(xid: string): Promise<void> {
    if (!this.reopen) throw new Error('internal: an XA transaction was prepared on a connection that cannot be replaced');
    const prepared = this.conn;
    const [ids] = await prepared.query('SELECT CONNECTION_ID() AS id');
    const session = Number((ids as Array<{ id: number }>)[0]!.id);
    this.conn = await this.reopen();
    await prepared.end().catch(() => prepared.destroy());
    this.foreignKeyChecks = true;
    // The server lets go of the session a moment after the client has; until it is gone, the
    // transaction is still that session's (listed by XA RECOVER, but not anyone else's to end).
    const deadline = Date.now() + DETACH_TIMEOUT_MS;
    for (;;) {
      const left = (await this.run('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [session], NO_CONTEXT, 'xa')) as unknown[];
      if (left.length === 0 && (await this.preparedHere(xid))) break;
      if (Date.now() > deadline) throw new TransientApplyError(`the replica did not release the prepared XA transaction ${xid} within ${DETACH_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await this.run('COMMIT', [], NO_CONTEXT, 'xa');
    // The new owner connection, so that a successor can end it (see claim).
    const { sql, params } = ownerConnectionStatement(this.streamId, this.epoch);
    await this.runFenced(sql, params, NO_CONTEXT);
  }

  /**
   * The group that commits or rolls back an XA transaction. Done like a DDL:
   * marked as started, run, and its position recorded after it, so a restart
   * in between knows that "unknown XID" means it already happened.
   */
  private async endXa(action: Extract<ApplyAction, { type: 'xa-end' }>, context: ApplyContext): Promise<void> {
    await this.idle();
    const statement = `XA ${action.verb} ${action.xid}`;
    const pending = await readXaPending(this.conn, this.streamId, action.xid);
    // (The read opened a transaction, autocommit being off: XA statements want none open.)
    await this.run('COMMIT', [], context, 'xa');
    if (!pending) {
      throw new ApplyError(
        `${statement} at ${describeContext(context)} ends an XA transaction whose prepare came before binlog-sync's start position, ` +
          'so its changes were never seen here; run `binlog-sync snapshot` to copy them, or pass it with `binlog-sync skip`',
        { location: locationOf(context, null, 'xa') },
      );
    }
    if (pending.prepared) {
      const again = this.startedBefore(statement);
      await this.markStarted(statement, context);
      // A prepared XA transaction of another session is ended only under autocommit (else XAER_OUTSIDE).
      await this.run('SET SESSION autocommit = 1', [], context, 'session');
      try {
        await this.run(statement, [], context, 'xa');
      } catch (error) {
        if (!(again && serverErrno(error) === ER_XAER_NOTA)) throw error;
        this.logger.warn({ ...context, xid: action.xid }, `${statement} had already been applied before a restart`);
      } finally {
        await this.run('SET SESSION autocommit = 0', [], context, 'session');
      }
    }
    this.logger.info({ ...context, xid: action.xid, prepared: pending.prepared }, pending.prepared ? `applied ${statement}` : `${statement}: none of its rows were ours`);
    this.xaEnded = action.xid;
    this.ddlApplied = true;
  }

  private ensureTransaction(): void {
    // autocommit is off: the first statement opens the replica transaction (an XA one with XA START).
    if (!this.unit && this.xa && !this.xa.prepared) {
      this.unit = { transactions: 0, rows: 0, openedAt: performance.now(), batches: [] };
      this.buffer.add(buffered({ sql: `XA START ${this.xa.xid}`, params: [] }, { context: NO_CONTEXT, kind: 'xa' }));
    }
    this.unit ??= { transactions: 0, rows: 0, openedAt: performance.now(), batches: [] };
    if (!this.partial) {
      this.partial = true;
      this.unit.transactions += 1;
    }
  }

  private async setForeignKeyChecks(on: boolean): Promise<void> {
    if (this.foreignKeyChecks === on) return;
    this.foreignKeyChecks = on;
    await this.send(buffered({ sql: `SET SESSION foreign_key_checks = ${on ? 1 : 0}`, params: [] }, { context: NO_CONTEXT, kind: 'session' }));
  }

  /** Queues a statement; careful mode runs it at once, batching hands over full batches only. */
  private async send(statement: Buffered): Promise<void> {
    this.buffer.add(statement);
    await this.drainIfDue();
  }

  private async drainIfDue(): Promise<void> {
    if (!this.mode.grouped) await this.drain(true);
    else if (this.buffer.ready) await this.drain(false);
  }

  /**
   * Hands buffered statements to the driver, several per round trip, without
   * waiting for the answers (their row counts are checked as they come). At
   * most PIPELINE_DEPTH pieces of work are on their way at once; in careful
   * mode each batch is awaited, so its error is the first.
   */
  private async drain(complete: boolean): Promise<void> {
    if (this.buffer.length === 0) return;
    const unit = this.unit;
    if (!unit) {
      this.buffer.clear(); // statements outside a transaction are never buffered
      return;
    }
    const careful = !this.mode.grouped;
    for (const batch of this.buffer.take(complete)) {
      // A batch of large rows waits for those before it: each is held in memory until the server has it.
      const large = batch.reduce((n, b) => n + estimateBytes(b), 0) >= LARGE_BATCH_BYTES;
      await this.pipeline.awaitWork(careful || large ? 0 : PIPELINE_DEPTH - 1);
      this.pipeline.throwIfFailed();
      const handed = this.pipeline.handOver(unit.transactions, async (hand) => {
        try {
          const answered = this.sendBatch(batch);
          hand();
          await answered;
        } finally {
          this.release(batch);
        }
      });
      unit.batches.push(handed);
    }
    if (careful) {
      await this.pipeline.awaitWork(0);
      this.pipeline.throwIfFailed();
    }
  }

  private async sendBatch(batch: Buffered[]): Promise<void> {
    if (batch[0]!.binlog) return this.sendBinlog(batch[0]!, batch[0]!.binlog);
    const first = batch.find((b) => b.table) ?? batch[0]!;
    // Errors of a batch that spans several events cannot say which one failed:
    // give up the transaction and let it run again, one event at a time.
    // So can a set-based statement whose row order differed from the source's.
    let spansEvents = false;
    let sql = '';
    const params: unknown[] = [];
    const large = batch.some((b) => b.blobs);
    const parts: QueryPart[] = [];
    for (const b of batch) {
      if (b.setBased || (b.table !== undefined && b.event !== first.event)) spansEvents = true;
      let text = b.sql;
      if (b.loads) text = `LOAD DATA LOCAL INFILE '${this.files.add(b.loads)}' ${text}`;
      if (large) {
        // A query of bytes: each statement with its values in (no placeholders left).
        parts.push(b.params.length ? inlineParts(text, b.params) : { sql: text, blobs: b.blobs });
        continue;
      }
      sql = sql === '' ? text : `${sql};\n${text}`;
      for (const p of b.params) params.push(p);
    }
    let query: string | Buffer = sql;
    if (large) {
      query = assembleQuery(parts);
      // The values are in the query now: let go of them (a 100 MB value is otherwise held twice until answered).
      parts.length = 0;
      for (const b of batch) {
        b.blobs = undefined;
        b.params = [];
      }
    }
    let result: unknown;
    try {
      result = await this.run(query, params, first.context, first.kind, first.table);
    } catch (error) {
      if (batch.some((b) => b.loads) && LOAD_DATA_REFUSED.has(serverErrno(error))) {
        // The replica (or this client) does not take local files after all: insert for the rest of the run.
        this.capabilities.disable('loadData', 'the replica refused LOAD DATA LOCAL INFILE');
        throw new CarefulRetryError('the replica refused LOAD DATA LOCAL INFILE; inserting the rows instead', { cause: error });
      }
      if (spansEvents && !(error instanceof TransientApplyError)) {
        throw new CarefulRetryError('a statement in a batch failed; applying one event at a time', { cause: error });
      }
      throw error;
    }
    // A large query is garbage once answered: collected now rather than when V8 gets round to it.
    if (typeof query !== 'string' && query.length >= COLLECT_AFTER_QUERY_BYTES) collectSoon();
    query = '';
    const results = (Array.isArray(result) ? result : [result]) as Array<{ affectedRows?: number; warningStatus?: number }>;
    batch.forEach((b, i) => this.checkAnswer(b, results[i]));
  }

  /**
   * Sends a BINLOG statement, after the format description the connection
   * has not read yet (queued in order at once: the hand-over lets the next
   * batch go as soon as this returns its promise).
   */
  private async sendBinlog(b: Buffered, batch: NonNullable<Buffered['binlog']>): Promise<void> {
    const format = this.formatOn === this.conn ? undefined : this.run(this.formatStatement!, [], b.context, 'format');
    this.formatOn = this.conn;
    const text = binlogStatement(batch.events);
    batch.events = [];
    const applied = this.run(text, [], b.context, b.kind, b.table);
    try {
      await format;
    } catch (error) {
      this.formatOn = undefined;
      await applied.catch(() => undefined);
      throw error;
    }
    try {
      await applied;
    } catch (error) {
      const errno = serverErrno(error);
      if (errno === ER_SPECIFIC_ACCESS_DENIED) {
        this.capabilities.disable('binlogStatements', `the replica refused a BINLOG statement (${(error as Error).message}); applying row events as SQL statements`);
        throw new CarefulRetryError('the replica refused a BINLOG statement; applying row events as SQL statements', { cause: error });
      }
      // Which of its events failed (and so where), the next session tells, one event per statement.
      if (batch.count > 1 && !(error instanceof TransientApplyError)) {
        const said = (error as { cause?: DriverError }).cause?.sqlMessage ?? (error as Error).message;
        throw new CarefulRetryError('a rows event of a BINLOG statement failed; applying them one at a time', {
          cause: new ApplyError(`one of ${batch.count} rows events applied together (from ${b.table} on) failed on the replica: ${said} (error ${errno})`, { cause: error }),
        });
      }
      const failure =
        errno === ER_KEY_NOT_FOUND
          ? new ApplyError(
              `the row to ${b.kind} in ${b.table} is not on the replica (the replica has drifted from the source) ` +
                `at ${describeContext(b.context)}; repair the row on the replica and start again, or pass this transaction with \`binlog-sync skip\``,
              { cause: (error as Error).cause ?? error, location: locationOf(b.context, b.table ?? null, b.kind) },
            )
          : error;
      throw failure;
    }
  }

  /** Did the statement do what the source's did? */
  private checkAnswer(b: Buffered, answer: { affectedRows?: number; warningStatus?: number } | undefined): void {
    const affected = answer?.affectedRows ?? 0;
    if (b.loads) {
      // LOCAL loads skip a row they cannot take (a duplicate key, a value out of range) with a warning:
      // run the transaction again with INSERTs, whose error names what failed.
      if (affected !== b.expectRows || (answer?.warningStatus ?? 0) > 0) {
        throw new CarefulRetryError(
          `LOAD DATA into ${b.table} took ${affected} of ${b.expectRows} rows with ${answer?.warningStatus ?? 0} warnings; applying row by row`,
        );
      }
      this.logger.debug({ table: b.table, rows: b.expectRows }, 'rows loaded with LOAD DATA');
    }
    // The position matched no row: a later runner owns the stream, and this transaction must not commit.
    if (b.kind === 'checkpoint') return checkCheckpointWritten(affected, this.epoch);
    if (b.expectRows !== undefined && affected < b.expectRows) {
      throw new ApplyError(
        `the row to ${b.kind} in ${b.table} is not on the replica (the replica has drifted from the source) ` +
          `at ${describeContext(b.context)}; repair the row on the replica and start again, or pass this transaction with \`binlog-sync skip\``,
        { location: locationOf(b.context, b.table ?? null, b.kind) },
      );
    }
  }

  private async applyRows(change: RowChange, context: ApplyContext): Promise<void> {
    // Rows of an XA transaction already prepared here before a restart: applied already.
    if (this.xa?.prepared) return;
    if (change.binlog) return this.applyBinlogRows(change, change.binlog, context);
    this.ensureTransaction();
    // As the source session had them: with checks on, the replica's own
    // foreign keys cascade the child rows the binlog does not carry.
    await this.setForeignKeyChecks(!change.noForeignKeyChecks);
    const table = `${change.table.database}.${change.table.table}`;
    const event = ++this.events;
    const grouped = this.mode.grouped;
    // Statements built ahead are set-based: careful mode must build its own, row by row.
    if (change.prepared && !grouped) throw new Error('internal: a prepared rows event reached the applier in careful mode');
    const label = { context, kind: change.kind, table, event };
    const versioning = change.prepared ? null : await this.versioningOf(change.table);
    // (Their LOAD DATA bytes arrive as Buffers: see threaded-source.ts.)
    // (The event lets go of its prepared values: the statements hold them, until their query is built.)
    const statements = change.prepared?.statements.map((s) => {
      const statement = buffered(s as Omit<typeof s, 'load'> & { load?: Buffer }, label);
      delete s.blobs;
      return statement;
    }) ??
      (versioning
        ? buildVersionedChange(change, versioning, this.history)
        : grouped
          ? batchStatements(change, this.batchingOptions)
          : buildRowChange(change, { setBased: false, flavor: this.flavor })
      ).map((s) => buffered(s, label));
    for (const statement of statements) await this.checkFits(statement);
    for (const statement of statements) {
      this.hold(statement);
      this.buffer.add(statement);
    }
    await this.drainIfDue();
    this.rows += rowCount(change);
  }

  /**
   * A rows event for the replica to apply itself: joined to the BINLOG
   * statement being built while it may be (see binlog-rows.ts). Foreign key
   * checks follow the event's own flag there, as on the server's own
   * replica, and the session's setting is as it was after each statement.
   */
  private async applyBinlogRows(change: RowChange, rows: NonNullable<RowChange["binlog"]>, context: ApplyContext): Promise<void> {
    if (!this.capabilities.binlogStatements) {
      // The stream still sends events this run no longer sends as such: start it again, decoding them.
      throw new CarefulRetryError('BINLOG statements are off for this run; streaming again with the rows decoded');
    }
    if (this.formatStatement === undefined) throw new Error('internal: a rows event came before the binlog\'s format description');
    this.ensureTransaction();
    const table = `${change.table.database}.${change.table.table}`;
    const statement: Buffered = {
      sql: '',
      params: [],
      binlog: binlogBatch(rows, change.statementEnd === true),
      context,
      kind: change.kind,
      table,
      event: ++this.events,
    };
    await this.checkFits(statement);
    this.hold(statement);
    this.buffer.add(statement);
    await this.drainIfDue();
    this.rows += rowCount(change);
  }

  /**
   * A large row holds the stream back from the moment it is taken in until
   * its batch has answered (release): the next large rows are not decoded
   * meanwhile, each being in memory until the server has it. It never waits
   * for more input to be sent (a full batch goes at once: see
   * StatementBuffer.take), so holding cannot stall the stream. A session that
   * fails lets go of everything with its queue.
   */
  private hold(statement: Buffered): void {
    const bytes = estimateBytes(statement);
    if (bytes < LARGE_BATCH_BYTES || !this.onLargeInFlight) return;
    statement.held = bytes;
    this.onLargeInFlight(bytes);
  }

  private release(batch: Buffered[]): void {
    for (const b of batch) {
      if (!b.held) continue;
      this.onLargeInFlight?.(-b.held);
      b.held = 0;
    }
  }

  /**
   * A large statement is measured (its values escaped in) before it is
   * queued. One larger than the replica's max_allowed_packet (the source's,
   * raised at start, may not be enough: an update of a row without a key
   * carries both images, and its texts twice) raises the replica's limit to
   * 1 GB, as the server's own replica may take, when this user may,
   * and its transaction runs again over a new connection, which takes the
   * new limit. When it may not, or past 1 GB, replication stops before
   * anything of the transaction commits, with the fix, rather than fail on
   * the replica with error 1153.
   */
  private async checkFits(statement: Buffered): Promise<void> {
    if (this.maxPacket <= 0 || estimateBytes(statement) < MEASURED_STATEMENT_BYTES) return;
    if (statement.binlog) return this.checkBytesFit(statement, binlogStatementBytes(statement.binlog.bytes) + 1);
    if (statement.params.length > 0) {
      const inline = inlineParts(statement.sql, statement.params);
      statement.sql = inline.sql;
      statement.params = [];
      if (inline.blobs.length) statement.blobs = inline.blobs;
    }
    return this.checkBytesFit(statement, partBytes(statement) + 1);
  }

  /** A statement of `bytes` on the wire takes the replica's max_allowed_packet, raised when it must be (see checkFits). */
  private async checkBytesFit(statement: Buffered, bytes: number): Promise<void> {
    if (bytes <= this.maxPacket) return;
    const where = `a row ${statement.kind} on ${statement.table} at ${describeContext(statement.context)}`;
    const location = locationOf(statement.context, statement.table ?? null, statement.kind);
    // Straight to the most a server takes, as the server's own replica may
    // (slave_max_allowed_packet): the next such row then needs no new connection.
    const wanted = MAX_PACKET_LIMIT;
    if (this.mayRaisePacket && bytes + PACKET_SLACK <= MAX_PACKET_LIMIT) {
      const raised = await this.conn.query(`SET GLOBAL max_allowed_packet = ${wanted}`).then(
        () => true,
        () => false,
      );
      if (raised) {
        throw new PacketLimitRaisedError(
          `${where} is ${describeBytes(bytes)} as a statement: raised the replica's max_allowed_packet from ${describeBytes(this.maxPacket)} to ${describeBytes(wanted)} ` +
            `and applying its transaction again over a new connection; to keep it over a replica restart, in its my.cnf [mysqld]: max_allowed_packet=${describeBytes(wanted)}`,
          { location },
        );
      }
      this.mayRaisePacket = false;
    }
    throw new PacketLimitError(
      `${where} is ${describeBytes(bytes)} as a statement, ` +
        `more than the replica's max_allowed_packet of ${describeBytes(this.maxPacket)}${this.sourcePacket ? ` (the source accepts ${describeBytes(this.sourcePacket)})` : ''}; ` +
        (bytes + PACKET_SLACK > MAX_PACKET_LIMIT
          ? `no server takes a statement past ${describeBytes(MAX_PACKET_LIMIT)}: nothing of this transaction was applied; skip it with \`binlog-sync skip\` or make the row smaller on the source`
          : `nothing of this transaction was applied: on the replica ${packetLimitFix(Math.max(bytes, this.sourcePacket) + PACKET_SLACK)}, then start again`),
      { location },
    );
  }

  /** The replica table's system-versioning period, when it has one (asked once per table until the next DDL). */
  private async versioningOf(table: RowChange['table']): Promise<Versioning | null> {
    if (this.flavor !== 'mariadb' || !mayBeSystemVersioned(table)) return null;
    const name = `${table.database}.${table.table}`;
    let versioning = this.versioned.get(name);
    if (versioning === undefined) {
      const [rows] = (await this.conn.query(
        `SELECT t.TABLE_TYPE AS type, c.COLUMN_NAME AS name, c.GENERATION_EXPRESSION AS expr FROM information_schema.TABLES t
         LEFT JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME AND c.GENERATION_EXPRESSION IN ('ROW START', 'ROW END')
         WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ?`,
        [table.database, table.table],
      )) as [Array<{ type: string; name: string | null; expr: string | null }>, unknown];
      versioning = null;
      if (rows[0]?.type === 'SYSTEM VERSIONED') {
        // Implicit periods (WITH SYSTEM VERSIONING alone) are row_start/row_end, hidden from information_schema.
        const startName = rows.find((r) => r.expr === 'ROW START')?.name ?? 'row_start';
        const endName = rows.find((r) => r.expr === 'ROW END')?.name ?? 'row_end';
        const start = table.columns.findIndex((c) => c.name === startName);
        const end = table.columns.findIndex((c) => c.name === endName);
        if (start >= 0 && end >= 0) versioning = { start, end };
      }
      this.versioned.set(name, versioning);
    }
    return versioning;
  }

  /**
   * A statement that commits on its own (DDL, XA COMMIT/ROLLBACK) cannot
   * commit together with the position: it is marked as started first, so
   * that after a crash its re-run knows it may already have happened.
   */
  private async markStarted(statement: string, context: ApplyContext): Promise<void> {
    const { sql, params } = pendingDdlStatement(this.streamId, this.epoch, statement);
    await this.runFenced(sql, params, context);
  }

  /** Whether `statement` was marked as started before a restart (its "already done" errors then mean success); asked once. */
  private startedBefore(statement: string): boolean {
    const again = this.pendingDdl === statement;
    this.pendingDdl = null;
    return again;
  }

  private async applyDdl(action: Extract<ApplyAction, { type: 'ddl' }>, context: ApplyContext): Promise<void> {
    // DDL runs alone: everything before it answered, and (outside a transaction) durable.
    await this.idle();
    this.versioned.clear();
    const inTransaction = this.unit !== undefined;
    const again = this.startedBefore(action.sql);
    if (!inTransaction) await this.markStarted(action.sql, context);
    // As the source ran it: its sql_mode, time zone and time, with autocommit on.
    const zone = this.sourceSystemZone;
    if (action.timeZone?.toUpperCase() === 'SYSTEM' && zone && !zone.steady) {
      this.logger.warn(
        { ...context, offset: zone.offset },
        `this DDL ran under time_zone=SYSTEM, and the source's system zone keeps daylight saving: applied at its offset when binlog-sync connected (${zone.offset}); give the source a default-time-zone to make such DDL exact`,
      );
    }
    const enter = enterDdlContext(action, this.flavor, zone?.offset);
    await this.run(enter.sql, enter.params, context, 'session').catch((error: unknown) => {
      throw unknownTimeZone(error, action.timeZone) ?? error;
    });
    this.foreignKeyChecks = false;
    try {
      if (action.database) await this.run(`USE ${quoteIdentifier(action.database)}`, [], context, action.verb, action.database);
      // DDL commits implicitly: whatever was open is committed, and later rows need a new transaction.
      this.unit = undefined;
      // Helper statements around it (see the 'ddl' action) are each safe to run again.
      for (const sql of [...(action.before ?? []), action.sql, ...(action.after ?? [])]) {
        await this.run(sql, [], context, action.verb, action.targets.join(', '));
      }
      this.ddlApplied = !inTransaction;
      this.logger.info({ ...context, statement: action.verb, tables: action.targets }, `applied ${action.verb}`);
    } catch (error) {
      if (!(again && ALREADY_APPLIED_ERRNOS.has(serverErrno(error)))) throw error;
      this.ddlApplied = !inTransaction;
      this.logger.warn({ ...context, statement: action.verb }, `${action.verb} had already been applied before a restart`);
    } finally {
      const leave = leaveDdlContext();
      await this.run(leave.sql, leave.params, context, 'session');
    }
  }

  /**
   * Runs a checkpoint write, then `with` (in the same transaction), and the
   * COMMIT; throws FencedError, committing nothing, when our epoch no longer
   * owns the stream.
   */
  private async runFenced(sql: string, params: unknown[], context: ApplyContext, withIt: CheckpointStatement[] = []): Promise<void> {
    if (withIt.length === 0) {
      const [written] = (await this.run(`${sql}; COMMIT`, params, context, 'checkpoint')) as Array<{ affectedRows?: number }>;
      // (The COMMIT of an update that matched nothing commits nothing.)
      checkCheckpointWritten(written?.affectedRows, this.epoch);
      return;
    }
    const written = (await this.run(sql, params, context, 'checkpoint')) as { affectedRows?: number };
    try {
      checkCheckpointWritten(written.affectedRows, this.epoch);
    } catch (error) {
      await this.conn.query('ROLLBACK');
      throw error;
    }
    await this.run(`${withIt.map((s) => s.sql).join(';\n')}; COMMIT`, withIt.flatMap((s) => s.params), context, 'checkpoint');
  }

  /** Runs one statement, turning driver errors into ours with where and what failed. */
  private async run(sql: string | Buffer, params: unknown[], context: ApplyContext, kind: string, table?: string): Promise<unknown> {
    try {
      // (A query of bytes goes through formatQuery as it is: see db/large-query.ts.)
      // (mysql2 reads an object as the query's options: a query of bytes goes as `{ sql }`.)
      const [result] = await this.conn.query((typeof sql === 'string' ? sql : { sql }) as string, params);
      return result;
    } catch (error) {
      const e = error as DriverError & { sql?: unknown };
      // The error keeps the query, which may be megabytes (it is never shown).
      if (typeof e === 'object' && e !== null && Buffer.isBuffer(e.sql)) e.sql = '(large query)';
      const detail = `${e.sqlMessage ?? e.message ?? String(error)}${e.errno ? ` (error ${e.errno})` : ''}`;
      const where = `${kind}${table ? ` on ${table}` : ''} at ${describeContext(context)}`;
      const location = locationOf(context, table ?? null, kind);
      if (e.errno === ER_NET_PACKET_TOO_LARGE) {
        const size = typeof sql === 'string' ? Buffer.byteLength(sql) : sql.length;
        throw new PacketLimitError(
          `applying ${where} failed: a statement of ${describeBytes(size)} is more than the replica's max_allowed_packet of ${describeBytes(this.maxPacket)} (error 1153); ` +
            `on the replica ${packetLimitFix(Math.max(size, this.sourcePacket) + PACKET_SLACK)}, then start again`,
          { cause: error, location },
        );
      }
      if (isTransientDriverError(error)) {
        throw new TransientApplyError(`applying ${where} failed: ${detail}`, { cause: error, location });
      }
      throw new ApplyError(`applying ${where} failed on the replica: ${detail}`, { cause: error, location });
    }
  }
}

/** The replica does not know the source session's time zone: say how to teach it. */
function unknownTimeZone(error: unknown, timeZone: string | undefined): ApplyError | undefined {
  if (!(error instanceof ApplyError) || serverErrno(error) !== ER_UNKNOWN_TIME_ZONE) return undefined;
  return new ApplyError(
    `${error.message}; the source ran this statement in time zone ${timeZone}, which the replica does not know: ` +
      'load the time zone tables on the replica (mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb mysql) and start again',
    { cause: error.cause, location: error.location },
  );
}

/** The server's error number behind one of our errors (run() keeps the driver's error as the cause); -1 when none. */
function serverErrno(error: unknown): number {
  return (error as { cause?: DriverError } | undefined)?.cause?.errno ?? -1;
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
