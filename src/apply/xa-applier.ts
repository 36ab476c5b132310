// XA transactions on the replica. A source XA transaction arrives as two
// event groups: one that prepares it (XA START ... XA PREPARE) and, later,
// one that commits or rolls it back. The first is applied as an XA
// transaction of the same id, prepared when the source prepared it; the
// second ends it. A prepared XA transaction survives a restart of the
// replica and of this process, and cannot commit together with its
// position, so each step leaves a note in the checkpoint row (pending,
// done) that tells a restart what already happened.
import { ER_XAER_NOTA } from '../db/server-errors.js';
import { ApplyError, TransientApplyError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ApplyAction } from '../txn/assembler.js';
import { NO_CONTEXT, describeContext, locationOf, serverErrno } from './apply-errors.js';
import type { CheckpointStatement } from './checkpoint.js';
import type { CheckpointWriter } from './checkpoint-writer.js';
import type { ReplicaConnection } from './replica-connection.js';
import type { ApplyContext } from './statement-buffer.js';

/** How long the replica may take to let go of a prepared XA transaction whose session ended. */
const DETACH_TIMEOUT_MS = 10_000;

export class XaApplier {
  /**
   * The XA transaction the current event group prepares; `prepared` when
   * the replica already holds it prepared (applied before a restart: its
   * rows are passed over).
   */
  private current: { xid: string; prepared: boolean } | undefined;
  /** An XA transaction committed or rolled back since the last position written: its note goes with that position. */
  private ended: string | undefined;

  constructor(
    private readonly replica: ReplicaConnection,
    private readonly checkpoint: CheckpointWriter,
    private readonly logger: Logger,
  ) {}

  /** The current group's rows are prepared on the replica already (applied before a restart): pass them over. */
  get passesRows(): boolean {
    return this.current?.prepared === true;
  }

  /** What opens the replica transaction of the current group: XA START for an XA group still to apply. */
  get startStatement(): string | undefined {
    return this.current && !this.current.prepared ? `XA START ${this.current.xid}` : undefined;
  }

  /**
   * An XA prepare group begins (everything before it has answered). One
   * the replica holds prepared already is not applied again.
   */
  async begin(xid: string): Promise<void> {
    this.current = { xid, prepared: await this.preparedHere(xid) };
    await this.replica.run('COMMIT', [], NO_CONTEXT, 'xa'); // XA START wants no transaction open
  }

  /**
   * The end of an XA prepare group. `prepareOpen` ends and prepares the
   * replica's XA transaction, when any of its rows were ours (undefined
   * when none were); the session then goes on over a new connection, and
   * the position is recorded on its own with a note for the group that
   * will end it. A restart in between finds the transaction prepared (begin).
   */
  async prepare(
    xid: string,
    gtid: string | null,
    position: CheckpointStatement,
    context: ApplyContext,
    prepareOpen: ((end: string) => Promise<void>) | undefined,
  ): Promise<void> {
    const prepared = this.current?.prepared === true || prepareOpen !== undefined;
    if (prepareOpen) {
      await prepareOpen(`XA END ${xid}; XA PREPARE ${xid}`);
      this.current = undefined;
      await this.detachPrepared(xid);
    }
    this.current = undefined;
    await this.checkpoint.write(position, context, [this.checkpoint.xaPending(xid, prepared, gtid)]);
  }

  /**
   * The group that commits or rolls back an XA transaction (everything
   * before it has answered). Done like a DDL: marked as started, run, and
   * its position recorded after it (takeEnded), so a restart in between
   * knows that "unknown XID" means it already happened.
   */
  async end(action: Extract<ApplyAction, { type: 'xa-end' }>, context: ApplyContext): Promise<void> {
    const statement = `XA ${action.verb} ${action.xid}`;
    const pending = await this.checkpoint.readXaPending(action.xid);
    // (The read opened a transaction, autocommit being off: XA statements want none open.)
    await this.replica.run('COMMIT', [], context, 'xa');
    if (!pending) {
      throw new ApplyError(
        `${statement} at ${describeContext(context)} ends an XA transaction whose prepare came before binlog-sync's start position, ` +
          'so its changes were never seen here; run `binlog-sync snapshot` to copy them, or pass it with `binlog-sync skip`',
        { location: locationOf(context, null, 'xa') },
      );
    }
    if (pending.prepared) {
      const again = this.checkpoint.startedBefore(statement);
      await this.checkpoint.markStarted(statement, context);
      // A prepared XA transaction of another session is ended only under autocommit (else XAER_OUTSIDE).
      await this.replica.run('SET SESSION autocommit = 1', [], context, 'session');
      try {
        await this.replica.run(statement, [], context, 'xa');
      } catch (error) {
        if (!(again && serverErrno(error) === ER_XAER_NOTA)) throw error;
        this.logger.warn({ ...context, xid: action.xid }, `${statement} had already been applied before a restart`);
      } finally {
        await this.replica.run('SET SESSION autocommit = 0', [], context, 'session');
      }
    }
    this.logger.info({ ...context, xid: action.xid, prepared: pending.prepared }, pending.prepared ? `applied ${statement}` : `${statement}: none of its rows were ours`);
    this.ended = action.xid;
  }

  /** The notes to write with the next position recorded on its own: the XA transaction ended is forgotten. */
  takeEnded(): CheckpointStatement[] {
    const ended = this.ended;
    this.ended = undefined;
    return ended !== undefined ? [this.checkpoint.xaDone(ended)] : [];
  }

  /**
   * Undoes the open replica transaction when it is an XA one of ours, active
   * or ended but not prepared (ROLLBACK would be refused); false when it is
   * not, and the caller rolls back as usual. Forgets the current group.
   */
  async rollback(open: boolean): Promise<boolean> {
    const xa = this.current;
    this.current = undefined;
    if (!open || !xa || xa.prepared) return false;
    await this.replica.query(`XA END ${xa.xid}`).catch(() => undefined);
    await this.replica.query(`XA ROLLBACK ${xa.xid}`).catch(() => undefined);
    return true;
  }

  /** Whether the replica holds the XA transaction `xid` prepared (XA RECOVER). */
  private async preparedHere(xid: string): Promise<boolean> {
    const result = (await this.replica.run('XA RECOVER', [], NO_CONTEXT, 'xa')) as Array<{ formatID: number; gtrid_length: number; bqual_length: number; data: Buffer | string }>;
    return result.some((row) => {
      const data = Buffer.isBuffer(row.data) ? row.data : Buffer.from(String(row.data), 'latin1');
      const gtrid = data.subarray(0, Number(row.gtrid_length));
      const bqual = data.subarray(Number(row.gtrid_length), Number(row.gtrid_length) + Number(row.bqual_length));
      return `X'${gtrid.toString('hex')}',X'${bqual.toString('hex')}',${row.formatID}` === xid;
    });
  }

  /**
   * MariaDB keeps a prepared XA transaction bound to the session that
   * prepared it, which may run nothing else until it ends; a session that
   * disconnects leaves it prepared for any other to end (and a restart
   * keeps it). So the apply session goes on over a new connection.
   */
  private async detachPrepared(xid: string): Promise<void> {
    if (!this.replica.replaceable) throw new Error('internal: an XA transaction was prepared on a connection that cannot be replaced');
    const [ids] = await this.replica.query('SELECT CONNECTION_ID() AS id');
    const session = Number((ids as Array<{ id: number }>)[0]!.id);
    await this.replica.replace();
    // The server lets go of the session a moment after the client has; until it is gone, the
    // transaction is still that session's (listed by XA RECOVER, but not anyone else's to end).
    const deadline = Date.now() + DETACH_TIMEOUT_MS;
    for (;;) {
      const left = (await this.replica.run('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [session], NO_CONTEXT, 'xa')) as unknown[];
      if (left.length === 0 && (await this.preparedHere(xid))) break;
      if (Date.now() > deadline) throw new TransientApplyError(`the replica did not release the prepared XA transaction ${xid} within ${DETACH_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await this.replica.run('COMMIT', [], NO_CONTEXT, 'xa');
    // The new owner connection, so that a successor can end it (see claim).
    await this.checkpoint.ownConnection();
  }
}
